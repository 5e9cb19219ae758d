"""``python -m harness.provision.interpreters install|find``: see ``cli``."""

from __future__ import annotations

from harness.provision.interpreters.cli import main

raise SystemExit(main())
