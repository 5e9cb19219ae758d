"""The Go worker (`harness/worker/wazero/`), built against exactly one wazero release.

    python -m harness.provision.go_worker build 1.8.2 --into ENV_DIR
    python -m harness.provision.go_worker versions

A build copies the worker's sources into the cache, changes only the `require` of wazero
(`go get github.com/tetratelabs/wazero@v1.8.2`, through the Go module proxy) and runs `go build`.
The binary is kept by (release, sources, Go toolchain) under `CACHE/wazero/`, so the compiler and
the interpreter env of one release, a second `tox` and bisect all reuse it; an env gets a hard
link to it at `ENV_DIR/bin/wazero-worker` (a copy across file systems). When it cannot be had the
env says why, in a file the probe reads: `NOT_PROVISIONED` (no Go toolchain) or `BUILD_FAILED`
(the compiler's output, first error first).

Stdlib only, so the command line runs with any interpreter and nothing installed. wasm-compat's
tox plugin calls `install` in tox's own process as it sets a wazero env up (`--notest` too).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.paths import cache_dir

MODULE = "github.com/tetratelabs/wazero"
SOURCE = Path(__file__).resolve().parents[1] / "worker" / "wazero"
BINARY = "wazero-worker"
NOT_PROVISIONED = "NOT_PROVISIONED"
BUILD_FAILED = "BUILD_FAILED"
BUILD_TIMEOUT_S = 900
# A compiler or go command error line: `./engine.go:12:5: undefined: wazero.X`, `go: ...`.
_ERROR_LINE = re.compile(r"^(?:\S+\.go:\d+(?::\d+)?: .+|go: .+|# .+)$", re.M)
_TOOLCHAINS: dict[tuple[str, int, int], str] = {}


class GoMissing(Exception):
    """No Go toolchain here: the worker cannot be built (the runtime is not provisioned)."""


class BuildFailed(Exception):
    """`go get` or `go build` failed against this release; the message is its first error."""

    def __init__(self, first_line: str, output: str) -> None:
        super().__init__(first_line)
        self.output = output


@dataclass(frozen=True)
class EnvState:
    """What a wazero env holds: the worker, or why there is none."""

    worker: Path | None
    problem: str | None = None
    provisioned: bool = True


def go_command(env: Mapping[str, str] | None = None) -> str:
    found = shutil.which("go", path=(env or os.environ).get("PATH"))
    if found is None:
        raise GoMissing("no Go toolchain on PATH (the wazero worker is built with `go build`)")
    return found


def go_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment `go` runs in: this one, with the machine's own toolchain only (a go
    directive may never make it fetch another) and no VCS stamping of a copied tree."""
    merged = dict(env or os.environ)
    merged["GOTOOLCHAIN"] = "local"
    merged["GOFLAGS"] = " ".join(
        [f for f in merged.get("GOFLAGS", "").split() if not f.startswith("-buildvcs")]
        + ["-buildvcs=false"]
    )
    return merged


def toolchain(env: Mapping[str, str] | None = None) -> str:
    """`go1.26.8 linux/amd64`: part of a build's key. Asked once per toolchain binary in a
    process (tox provisions every wazero env in its own); with GOTOOLCHAIN=local the answer is
    the binary's own release, and one replaced in place has another mtime and is asked again."""
    go = go_command(env)
    stat = os.stat(go)
    key = (go, stat.st_mtime_ns, stat.st_size)
    if key not in _TOOLCHAINS:
        out = _go(["version"], Path.cwd(), env)
        _TOOLCHAINS[key] = out.strip().removeprefix("go version ")
    return _TOOLCHAINS[key]


def source_files() -> list[Path]:
    """What a build compiles: the worker's Go files (not its tests) and its go.mod."""
    files = [p for p in SOURCE.glob("*.go") if not p.name.endswith("_test.go")]
    return sorted([*files, SOURCE / "go.mod"])


def build_key(version: str, env: Mapping[str, str] | None = None) -> str:
    digest = hashlib.sha256(toolchain(env).encode())
    for path in source_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"v{version.lstrip('v')}-{digest.hexdigest()[:16]}"


def build(version: str, env: Mapping[str, str] | None = None) -> Path:
    """The worker built against wazero `version`, from the cache or built now."""
    go_command(env)
    key = build_key(version, env)
    root = cache_dir(env) / "wazero"
    done = root / key / BINARY
    if done.is_file():
        return done
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the compiler and interpreter env of one release
        if not done.is_file():
            _build_into(version, root / key, env)
    return done


def _build_into(version: str, target: Path, env: Mapping[str, str] | None) -> None:
    work = target.with_name(target.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for path in source_files():
        shutil.copy2(path, work / path.name)
    if (SOURCE / "go.sum").is_file():
        shutil.copy2(SOURCE / "go.sum", work / "go.sum")
    try:
        _go(["get", f"{MODULE}@v{version.lstrip('v')}"], work, env)
        _go(["build", "-trimpath", "-o", BINARY, "."], work, env)
    except BuildFailed:
        shutil.rmtree(work, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)


def _go(args: list[str], cwd: Path, env: Mapping[str, str] | None) -> str:
    command = [go_command(env), *args]
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=go_environment(env),
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise BuildFailed(f"`go {args[0]}` took over {BUILD_TIMEOUT_S} s", "") from None
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise BuildFailed(first_error(output) or f"`go {args[0]}` exited {done.returncode}", output)
    return done.stdout


def first_error(output: str) -> str | None:
    """The first line of a go command's output that states an error."""
    for found in _ERROR_LINE.finditer(output):
        line = found.group(0).strip()
        if not line.startswith("# "):  # `# package`: the heading above the errors
            return line
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[0] if lines else None


def install(version: str, into: Path, env: Mapping[str, str] | None = None) -> EnvState:
    """Put the worker built against `version` into an env, or the reason there is none."""
    (into / "bin").mkdir(parents=True, exist_ok=True)
    for marker in (NOT_PROVISIONED, BUILD_FAILED):
        (into / marker).unlink(missing_ok=True)
    target = into / "bin" / BINARY
    try:
        built = build(version, env)
    except GoMissing as exc:
        target.unlink(missing_ok=True)
        (into / NOT_PROVISIONED).write_text(f"{exc}\n")
        return EnvState(None, str(exc), provisioned=False)
    except BuildFailed as exc:
        target.unlink(missing_ok=True)
        (into / BUILD_FAILED).write_text(f"{exc}\n\n{exc.output}")
        return EnvState(None, f"does not build against wazero {version}: {exc}")
    place(built, target)
    return EnvState(target)


def place(built: Path, target: Path) -> None:
    """Put the cached binary at `target`: a hard link (no 9 MB copy per env), or a copy where
    the cache is on another file system. Sharing the inode is safe: nothing writes a worker in
    place (a rebuild renames a new directory over the cache entry, an install replaces the
    env's file), so neither can change the other."""
    partial = target.with_name(BINARY + ".partial")
    partial.unlink(missing_ok=True)
    try:
        os.link(built, partial)
    except OSError:  # EXDEV, or a file system without hard links
        shutil.copy2(built, partial)
    partial.replace(target)


def env_state(into: Path) -> EnvState:
    """What `install` left in an env (read by the probe, without running go)."""
    for marker, provisioned in ((NOT_PROVISIONED, False), (BUILD_FAILED, True)):
        path = into / marker
        if path.is_file():
            first = path.read_text(errors="replace").splitlines()[0:1]
            why = first[0] if first else marker
            if marker == BUILD_FAILED:
                why = f"does not build: {why} (the output: {path})"
            return EnvState(None, why, provisioned)
    worker = into / "bin" / BINARY
    if worker.is_file():
        return EnvState(worker)
    return EnvState(None, "no worker built in its env yet", provisioned=False)


def release_versions(env: Mapping[str, str] | None = None) -> list[str]:
    """Every wazero release the Go module proxy lists, oldest first, without the `v`."""
    out = _go(["list", "-m", "-versions", MODULE], Path.cwd(), env)
    versions = out.split()[1:]
    return [v.lstrip("v") for v in versions if "-" not in v]  # no pre-releases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.provision.go_worker")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="build the worker against one wazero release")
    make.add_argument("version")
    make.add_argument("--into", type=Path, required=True, help="the env dir to put it in")
    commands.add_parser("versions", help="list the wazero releases the module proxy has")
    args = parser.parse_args(argv)
    if args.command == "versions":
        print("\n".join(release_versions()))
        return 0
    state = install(args.version, args.into)
    if state.worker is None:
        # not fatal: the env exists and says why; the matrix reports it as the runtime's state
        print(f"wazero {args.version}: {state.problem}", file=sys.stderr)
        return 0
    print(f"wazero {args.version}: {state.worker}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
