"""harness.provision.interpreters: apt sources, the private apt configuration, choosing an
interpreter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import ExitCode, HarnessError, ProvisionError
from harness.provision import interpreters as itp
from harness.provision.interpreters import AptSource, DebianMirror, Probe
from harness.provision.interpreters.candidates import _gist

ROOT = Path(__file__).resolve().parents[3]

DEB822 = """\
Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security/
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://disabled.example/debian
Suites: sid
Components: main
Enabled: no

Types: deb
URIs: https://vendor.example/apt
Suites: stable
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBF...
 -----END PGP PUBLIC KEY BLOCK-----
"""

ONE_LINE = """\
# the main archive
deb [arch=amd64 signed-by=/etc/apt/keyrings/debian.gpg] http://mirror.example/debian bullseye main
deb-src http://mirror.example/debian bullseye main
deb http://mirror.example/debian-security bullseye-security main  # trailing comment

deb-src
"""

UBUNTU = "deb http://archive.example/ubuntu jammy main restricted\n"

MIRROR = DebianMirror(
    archive="http://mirror.example/debian",
    security="http://mirror.example/debian-security",
    host_suite="bookworm",
    keyring="/usr/share/keyrings/debian-archive-keyring.gpg",
)


def everything_exists(path: str) -> bool:
    return True


def nothing_exists(path: str) -> bool:
    return False


def quiet(message: str) -> None:
    pass


# --- apt sources ----------------------------------------------------------------------------


def test_deb822_stanzas_become_sources_without_comments_disabled_ones_or_inline_keys() -> None:
    sources = itp.parse_deb822_sources(DEB822)
    assert sources == [
        AptSource(
            types=("deb",),
            uris=("http://mirror.example/debian",),
            suites=("bookworm", "bookworm-updates"),
            components=("main",),
            signed_by="/usr/share/keyrings/debian-archive-keyring.gpg",
        ),
        AptSource(
            types=("deb",),
            uris=("http://mirror.example/debian-security/",),
            suites=("bookworm-security",),
            components=("main",),
            signed_by="/usr/share/keyrings/debian-archive-keyring.gpg",
        ),
        AptSource(
            types=("deb",),
            uris=("https://vendor.example/apt",),
            suites=("stable",),
            components=("main",),
            signed_by=None,
        ),
    ]


def test_one_line_sources_keep_options_and_skip_comments() -> None:
    sources = itp.parse_one_line_sources(ONE_LINE)
    assert [(s.types, s.uris, s.suites) for s in sources] == [
        (("deb",), ("http://mirror.example/debian",), ("bullseye",)),
        (("deb-src",), ("http://mirror.example/debian",), ("bullseye",)),
        (("deb",), ("http://mirror.example/debian-security",), ("bullseye-security",)),
    ]
    assert sources[0].signed_by == "/etc/apt/keyrings/debian.gpg"
    assert sources[0].components == ("main",)


def test_the_debian_mirror_comes_from_the_systems_sources() -> None:
    mirror = itp.find_debian_mirror(itp.parse_deb822_sources(DEB822), everything_exists)
    assert mirror == MIRROR


def test_the_security_archive_is_derived_when_no_source_names_it() -> None:
    sources = itp.parse_one_line_sources("deb http://mirror.example/debian/ trixie main\n")
    mirror = itp.find_debian_mirror(sources, nothing_exists)
    assert mirror == DebianMirror(
        "http://mirror.example/debian", "http://mirror.example/debian-security", "trixie", None
    )


def test_the_keyring_falls_back_to_the_sources_own_signed_by() -> None:
    sources = itp.parse_one_line_sources(ONE_LINE)
    mirror = itp.find_debian_mirror(sources, lambda path: path == "/etc/apt/keyrings/debian.gpg")
    assert mirror.keyring == "/etc/apt/keyrings/debian.gpg"
    assert mirror.security == "http://mirror.example/debian-security"


def test_sources_without_a_debian_archive_are_refused_with_what_to_do() -> None:
    with pytest.raises(ProvisionError, match=r"no Debian archive .* --mirror URL"):
        itp.find_debian_mirror(itp.parse_one_line_sources(UBUNTU), everything_exists)


def test_system_sources_are_read_from_both_formats_and_other_files_ignored(tmp_path: Path) -> None:
    parts = tmp_path / "etc/apt/sources.list.d"
    parts.mkdir(parents=True)
    (parts / "debian.sources").write_text(DEB822)
    (parts / "extra.list").write_text(UBUNTU)
    (parts / "old.list.disabled-by-someone").write_text(ONE_LINE)
    sources = itp.read_system_sources(tmp_path)
    assert [s.suites[0] for s in sources] == ["bookworm", "bookworm-security", "stable", "jammy"]


# --- the private apt configuration ----------------------------------------------------------


def test_private_sources_list_names_bullseye_its_security_suite_and_the_host_suite() -> None:
    key = "[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
    assert itp.private_sources_list(MIRROR).splitlines() == [
        f"deb {key} http://mirror.example/debian bullseye main",
        f"deb {key} http://mirror.example/debian-security bullseye-security main",
        f"deb {key} http://mirror.example/debian bookworm main",
    ]


def test_private_sources_list_without_a_keyring_leaves_apt_its_default_keys() -> None:
    mirror = DebianMirror("http://m/debian", "http://m/debian-security", "bullseye", None)
    assert itp.private_sources_list(mirror).splitlines() == [
        "deb http://m/debian bullseye main",
        "deb http://m/debian-security bullseye-security main",
    ]


def test_apt_commands_keep_everything_in_the_work_dir(tmp_path: Path) -> None:
    update, download = itp.apt_commands(tmp_path, MIRROR)
    options = dict(arg.split("=", 1) for prev, arg in zip(update, update[1:]) if prev == "-o")
    assert options["Dir::State::Lists"] == str(tmp_path / "lists")
    assert options["Dir::Cache"] == str(tmp_path / "cache")
    assert options["Dir::Etc::SourceList"] == str(tmp_path / "sources.list")
    for system_part in ("SourceParts", "Preferences", "PreferencesParts"):
        assert options[f"Dir::Etc::{system_part}"] == "/dev/null"
    assert "Acquire::Check-Valid-Until" not in options  # dates are checked unless they must not
    assert update[0] == "apt-get" and update[-1] == "update"
    assert download[: len(update) - 1] == update[:-1]
    assert download[len(update) - 1 :] == [
        "download",
        *itp.DEBIAN_PACKAGES,
        "patchelf/bookworm",
    ]
    assert "python3-distutils=3.9.2-1" in download


def test_an_expired_release_is_retried_without_the_date_check_but_with_signatures(
    tmp_path: Path,
) -> None:
    update, _ = itp.apt_commands(tmp_path, MIRROR, check_valid_until=False)
    assert "Acquire::Check-Valid-Until=false" in update
    assert not any("AllowInsecure" in arg or "Trusted" in arg for arg in update)


def test_package_names_are_those_downloaded_without_versions() -> None:
    assert itp.package_names()[-3:] == ["python3-distutils", "python3-lib2to3", "patchelf"]


@pytest.mark.parametrize(
    ("file_dir", "needed", "expected"),
    [
        (
            "/p/usr/lib/python3.9/lib-dynload",
            ["libssl.so.1.1", "libc.so.6"],
            "$ORIGIN/../../x86_64-linux-gnu",
        ),
        ("/p/usr/lib/x86_64-linux-gnu", ["libcrypto.so.1.1"], "$ORIGIN"),
        ("/p/usr/lib/x86_64-linux-gnu/engines-1.1", ["libcrypto.so.1.1"], "$ORIGIN/.."),
        ("/p/usr/lib/python3.9/lib-dynload", ["libz.so.1", "libc.so.6"], None),
    ],
)
def test_rpath_reaches_only_the_private_libraries(
    file_dir: str, needed: list[str], expected: str | None
) -> None:
    private = {
        "libssl.so.1.1": "/p/usr/lib/x86_64-linux-gnu",
        "libcrypto.so.1.1": "/p/usr/lib/x86_64-linux-gnu",
    }
    assert itp.rpath_for(file_dir, needed, private) == expected


# --- choosing an interpreter ----------------------------------------------------------------


def fake_check(table: dict[str, Probe], calls: list[str]) -> Callable[[str], Probe]:
    def check(path: str) -> Probe:
        calls.append(path)
        return table[path]

    return check


def ok(path: str, version: tuple[int, ...], real: str = "") -> Probe:
    return Probe(path, executable=real or path, version=version, implementation="cpython")


def test_a_failing_shim_is_skipped_and_the_real_binary_linked() -> None:
    table = {
        "/shims/python3.9": Probe("/shims/python3.9", problem="exit 127: pyenv: not found"),
        "/pyenv/3.9.18/bin/python3.9": ok("/pyenv/3.9.18/bin/python3.9", (3, 9, 18)),
    }
    logged: list[str] = []
    chosen = itp.select_candidate(table, fake_check(table, []), logged.append)
    assert chosen is not None and chosen.executable == "/pyenv/3.9.18/bin/python3.9"
    assert logged[0] == "skip /shims/python3.9: exit 127: pyenv: not found"


def test_3_9_wins_over_3_10_found_first_and_the_search_stops_there() -> None:
    table = {
        "/a/python3.10": ok("/a/python3.10", (3, 10, 13)),
        "/b/python3.9": ok("/b/python3.9", (3, 9, 2)),
        "/c/python3.9": ok("/c/python3.9", (3, 9, 18)),
    }
    calls: list[str] = []
    chosen = itp.select_candidate(table, fake_check(table, calls), quiet)
    assert chosen is not None and chosen.path == "/b/python3.9"
    assert calls == ["/a/python3.10", "/b/python3.9"]


def test_3_8_and_3_7_win_over_3_10_which_lacks_wasmer_1_0_wheels() -> None:
    table = {
        "/a/python3.10": ok("/a/python3.10", (3, 10, 13)),
        "/b/python3.7": ok("/b/python3.7", (3, 7, 16)),
        "/c/python3.8": ok("/c/python3.8", (3, 8, 18)),
    }
    chosen = itp.select_candidate(table, fake_check(table, []), quiet)
    assert chosen is not None and chosen.path == "/c/python3.8"


def test_only_a_cpython_3_7_to_3_10_with_every_module_is_usable() -> None:
    table = {
        "/pypy": Probe("/pypy", "/pypy", (3, 9, 0), "pypy"),
        "/new": ok("/new", (3, 11, 7)),
        "/old": ok("/old", (3, 6, 15)),
        "/bare": Probe("/bare", "/bare", (3, 9, 2), "cpython", "import ssl failed (...)"),
    }
    logged: list[str] = []
    assert itp.select_candidate(table, fake_check(table, []), logged.append) is None
    assert logged == [
        "skip /pypy: pypy is not CPython",
        "skip /new: 3.11.7 is not 3.7-3.10",
        "skip /old: 3.6.15 is not 3.7-3.10",
        "skip /bare: import ssl failed (...)",
    ]


def test_candidates_come_from_path_then_pyenv_best_version_first(tmp_path: Path) -> None:
    for version in ("3.10.13", "3.9.18", "3.8.18", "3.12.1"):
        binary = tmp_path / f"pyenv/versions/{version}/bin/python{version.rsplit('.', 1)[0]}"
        binary.parent.mkdir(parents=True)
        binary.touch()
    on_path = {"python3.9": "/shims/python3.9", "python3.8": "/usr/bin/python3.8"}
    paths = itp.candidate_paths(
        {"PYENV_ROOT": str(tmp_path / "pyenv")}, on_path.get, tmp_path / "home"
    )
    versions = tmp_path / "pyenv/versions"
    assert paths[:5] == [
        "/shims/python3.9",
        "/usr/bin/python3.8",
        f"{versions}/3.9.18/bin/python3.9",
        f"{versions}/3.8.18/bin/python3.8",
        f"{versions}/3.10.13/bin/python3.10",
    ]


def test_the_gist_of_an_error_is_a_tracebacks_last_line_or_the_first_line() -> None:
    assert _gist("pyenv: python3.9: command not found\n\nThe `python3.9' ...") == (
        "pyenv: python3.9: command not found"
    )
    assert _gist("Traceback (most recent call last):\n  ...\nImportError: x\n") == (
        "ImportError: x"
    )


# --- state ----------------------------------------------------------------------------------


def test_state_round_trips_and_find_prints_path_and_origin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    itp.link(tmp_path, sys.executable)
    itp.write_state(tmp_path, f"existing:{sys.executable}", ok(sys.executable, (3, 9, 18)))
    installed = itp.read_state(tmp_path)
    assert installed == itp.Installed(tmp_path / "bin/python3.9", f"existing:{sys.executable}")
    assert itp.main(["find", "--prefix", str(tmp_path)]) == ExitCode.OK
    assert capsys.readouterr().out == f"{tmp_path}/bin/python3.9 existing:{sys.executable}\n"


def test_find_without_an_install_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert itp.main(["find", "--prefix", str(tmp_path)]) == ExitCode.FAILURES == 1
    assert capsys.readouterr().err == (
        f"error: nothing installed in {tmp_path}: "
        "run python -m harness.provision.interpreters install\n"
    )


def test_a_dangling_link_or_a_newer_state_is_reported(tmp_path: Path) -> None:
    itp.link(tmp_path, str(tmp_path / "gone"))
    itp.write_state(tmp_path, "existing:/gone", ok("/gone", (3, 9, 18)))
    with pytest.raises(ProvisionError, match="missing or dangling: run install again"):
        itp.read_state(tmp_path)
    (tmp_path / itp.STATE_FILE).write_text(json.dumps({"format": 99, "origin": "x"}))
    with pytest.raises(ProvisionError, match="has format 99, this module reads 1"):
        itp.read_state(tmp_path)


def test_the_default_prefix_follows_the_environment() -> None:
    assert itp.default_prefix({itp.PREFIX_ENV: "/opt/py39"}) == Path("/opt/py39")
    assert itp.default_prefix({}) == Path.home() / ".cache/wasm-compat/python3.9"
    xdg = {"XDG_CACHE_HOME": "/var/cache/me"}
    assert itp.default_prefix(xdg) == Path("/var/cache/me/wasm-compat/python3.9")
    ours = {"WASM_COMPAT_CACHE": "/ci/cache", **xdg}
    assert itp.default_prefix(ours) == Path("/ci/cache/python3.9")
    assert itp.default_prefix({itp.PREFIX_ENV: "/opt/py39", **ours}) == Path("/opt/py39")


def test_a_provisioning_failure_is_a_harness_error() -> None:
    assert issubclass(ProvisionError, HarnessError)


# --- for real -------------------------------------------------------------------------------


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.provision.interpreters", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def existing_interpreter() -> Probe:
    if os.environ.get(itp.INTERPRETER_ENV):
        found = itp.judge(itp.probe(os.environ[itp.INTERPRETER_ENV]))
        if found.ok:
            return found
    paths = itp.candidate_paths(dict(os.environ), shutil.which, Path.home())
    chosen = itp.select_candidate(paths, itp.probe, quiet)
    if chosen is None:
        pytest.skip("no CPython 3.7-3.10 with ssl, ctypes and distutils on this machine")
    return chosen


@pytest.mark.integration
def test_install_links_an_existing_interpreter_and_a_second_run_only_checks(
    tmp_path: Path,
) -> None:
    expected = existing_interpreter()
    first = run_cli("install", "--prefix", str(tmp_path))
    assert first.returncode == 0, first.stderr
    python = tmp_path / "bin/python3.9"
    assert first.stdout.startswith(f"{python}: CPython 3.")
    assert os.path.realpath(python) == expected.executable
    assert "link " in first.stderr

    started = time.monotonic()
    second = run_cli("install", "--prefix", str(tmp_path), "--quiet")
    assert time.monotonic() - started < 5
    assert (second.returncode, second.stdout, second.stderr) == (0, first.stdout, "")
    found = run_cli("find", "--prefix", str(tmp_path))
    assert found.stdout == f"{python} existing:{expected.executable}\n"

    venv = tmp_path / "venv"
    made = subprocess.run([str(python), "-m", "venv", "--without-pip", str(venv)], check=False)
    assert made.returncode == 0
    assert itp.judge(itp.probe(str(venv / "bin/python"))).ok


def debian_mirror_or_skip() -> None:
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("not a Debian-based system (no apt-get or dpkg-deb)")
    try:
        itp.find_debian_mirror(itp.read_system_sources())
    except ProvisionError as error:
        pytest.skip(str(error))


@pytest.mark.integration
@pytest.mark.matrix
def test_the_debian_route_unpacks_a_working_relocatable_python39(tmp_path: Path) -> None:
    debian_mirror_or_skip()
    prefix = tmp_path / "py39"
    result = run_cli("install", "--prefix", str(prefix), "--from-debian")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{prefix}/bin/python3.9: CPython 3.9.")
    state = json.loads((prefix / itp.STATE_FILE).read_text())
    assert state["origin"].startswith("debian-bullseye:3.9.")
    assert "rpath $ORIGIN/../../" in result.stderr

    moved = tmp_path / "moved"
    prefix.rename(moved)  # the link and the RPATHs are relative: the prefix can move
    found = itp.judge(itp.probe(str(moved / "bin/python3.9")))
    assert found.ok, found.problem
    assert found.version[:2] == (3, 9)
