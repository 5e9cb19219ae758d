"""A CPython 3.9 for the wasmer envs, at one stable path: ``PREFIX/bin/python3.9``.

wasmer 1.x publishes wheels only for CPython 3.7-3.10 (1.0.0 stops at 3.9), so its envs need an
older interpreter than the harness runs on. ``install`` puts one at ``PREFIX/bin/python3.9``
(``$WASM_COMPAT_PYTHON39_PREFIX``, else ``python3.9`` in the cache directory of
``harness.paths``: ``~/.cache/wasm-compat/python3.9`` unless ``$WASM_COMPAT_CACHE`` or
``$XDG_CACHE_HOME`` say otherwise) by one of two routes:

- **existing**: a CPython 3.7-3.10 already on the machine (``$WASM_COMPAT_PYTHON39``, then
  ``python3.9``/``python3.8``/``python3.10`` on PATH, then pyenv's versions), checked by running it,
  is linked there. A symlink is enough: CPython resolves its own executable's symlinks to find its
  standard library, and venvs made from the link record ``PREFIX/bin`` as their home.
- **debian-bullseye** (when nothing fits, or with ``--from-debian``): Debian 11's ``python3.9``
  packages are fetched from the mirror the system's apt sources already name, with a private apt
  configuration in a temp dir (the system's sources and state are never touched, no root needed),
  unpacked with ``dpkg-deb -x`` into ``PREFIX/debian-root``, and the extension modules that link
  bullseye-only libraries (libssl1.1, libffi7, libmpdec3) get an ``$ORIGIN``-relative RPATH set by
  an unpacked ``patchelf``. Signatures are verified with the system's Debian archive keyring.

Either way the result must pass a self-check (ssl, ctypes, _decimal, hashlib, sqlite3, lzma, bz2,
zlib and distutils import), and ``PREFIX/interpreter.json`` records where it came from. A second
``install`` with a working interpreter in place only repeats the self-check.

The package, by job: ``candidates`` (finding an existing interpreter and the self-check),
``apt`` (the system's apt sources and the private apt configuration), ``debian`` (download,
unpack, RPATHs), ``prefix`` (the link, the state file, the lock), ``install`` (choosing the
route) and ``cli`` (``main``); the names other modules use are re-exported here.

It imports only the stdlib and the harness's stdlib-only bottom (``harness.errors``,
``harness.paths``) and runs on Python 3.9-3.13, so a bare CI machine can run
``python3 -m harness.provision.interpreters install`` before anything else is installed.
"""

from __future__ import annotations

from harness.provision.interpreters.apt import (
    DEBIAN_PACKAGES,
    AptSource,
    DebianMirror,
    apt_commands,
    find_debian_mirror,
    package_names,
    parse_deb822_sources,
    parse_one_line_sources,
    private_sources_list,
    read_system_sources,
)
from harness.provision.interpreters.candidates import (
    INTERPRETER_ENV,
    Probe,
    candidate_paths,
    judge,
    probe,
    select_candidate,
)
from harness.provision.interpreters.cli import main
from harness.provision.interpreters.debian import rpath_for
from harness.provision.interpreters.install import install
from harness.provision.interpreters.prefix import (
    PREFIX_ENV,
    STATE_FILE,
    Installed,
    default_prefix,
    link,
    read_state,
    stable_path,
    write_state,
)

__all__ = [
    "DEBIAN_PACKAGES",
    "INTERPRETER_ENV",
    "PREFIX_ENV",
    "STATE_FILE",
    "AptSource",
    "DebianMirror",
    "Installed",
    "Probe",
    "apt_commands",
    "candidate_paths",
    "default_prefix",
    "find_debian_mirror",
    "install",
    "judge",
    "link",
    "main",
    "package_names",
    "parse_deb822_sources",
    "parse_one_line_sources",
    "private_sources_list",
    "probe",
    "read_state",
    "read_system_sources",
    "rpath_for",
    "select_candidate",
    "stable_path",
    "write_state",
]
