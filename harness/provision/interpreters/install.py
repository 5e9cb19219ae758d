"""``install``: keep a working interpreter, else link an existing one, else take Debian's."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness.errors import ProvisionError
from harness.provision.interpreters.apt import DEBIAN_SUITE
from harness.provision.interpreters.candidates import (
    INTERPRETER_ENV,
    Log,
    Probe,
    candidate_paths,
    judge,
    probe,
    select_candidate,
)
from harness.provision.interpreters.debian import install_debian
from harness.provision.interpreters.prefix import (
    Installed,
    link,
    locked,
    read_state,
    stable_path,
    write_state,
)


def install(
    prefix: Path, env: dict[str, str], *, from_debian: bool, mirror: str | None, log: Log
) -> tuple[Installed, Probe]:
    """Ensure ``PREFIX/bin/python3.9`` works; do nothing more if it already does."""
    with locked(prefix):
        current = _current(prefix, env, from_debian, log)
        if current is not None:
            return current
        found = None if from_debian else install_existing(prefix, env, log)
        if found is None:
            log("taking Debian's bullseye python3.9" if from_debian else "no usable one here")
            install_debian(prefix, mirror, log)
        final = judge(probe(str(stable_path(prefix))))
        if not final.ok:
            raise ProvisionError(
                f"{stable_path(prefix)} fails its self-check: {final.problem}: "
                f"remove {prefix} and run install again"
            )
        return read_state(prefix), final


def _current(
    prefix: Path, env: dict[str, str], from_debian: bool, log: Log
) -> tuple[Installed, Probe] | None:
    """The installed interpreter if it still passes the self-check (and fits ``from_debian``)."""
    try:
        installed = read_state(prefix)
    except ProvisionError:
        return None
    if from_debian and not installed.origin.startswith(f"debian-{DEBIAN_SUITE}:"):
        log(f"installed one is {installed.origin}; --from-debian replaces it")
        return None
    explicit = env.get(INTERPRETER_ENV)
    if (
        explicit
        and not from_debian
        and installed.origin != f"existing:{os.path.realpath(explicit)}"
    ):
        log(f"installed one is {installed.origin}; ${INTERPRETER_ENV} names another")
        return None
    found = judge(probe(str(installed.python)))
    if found.ok:
        log(f"{installed.python} ({installed.origin}) passes its self-check")
        return installed, found
    log(f"installed {installed.origin} fails its self-check ({found.problem}); reinstalling")
    return None


def install_existing(prefix: Path, env: dict[str, str], log: Log) -> Probe | None:
    """Link an interpreter already on the machine, if one is usable."""
    explicit = env.get(INTERPRETER_ENV)
    if explicit:
        found = judge(probe(explicit))
        if not found.ok:
            raise ProvisionError(f"${INTERPRETER_ENV}={explicit}: {found.problem}: fix or unset it")
        log(f"using ${INTERPRETER_ENV}: CPython {found.version_text} ({found.executable})")
    else:
        paths = candidate_paths(env, shutil.which, Path.home())
        chosen = select_candidate(paths, probe, log)
        if chosen is None:
            return None
        found = chosen
    if found.version[:2] == (3, 10):
        log("note: CPython 3.10 runs wasmer 1.1.0 but not 1.0.0 (no cp310 wheel)")
    log(f"link {stable_path(prefix)} -> {found.executable}")
    link(prefix, found.executable)
    write_state(prefix, f"existing:{found.executable}", found)
    return found
