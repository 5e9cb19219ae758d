"""Runtime envs: tox.ini's pins, a CPython for wasmer, probing what is installed."""
