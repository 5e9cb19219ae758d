"""The worker: runs segments inside a runtime's env.

Everything under `harness.worker` (its adapters too) and `harness.model` runs on Python 3.9+ and
imports only the stdlib and the runtime under test, so it can be put on that env's path without
installing the harness there (the coordinator points PYTHONPATH at a directory holding only the
`harness` package).
"""
