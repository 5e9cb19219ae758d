from __future__ import annotations

from harness.cli.main import main

raise SystemExit(main())
