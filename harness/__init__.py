"""wasm-compat: run WebAssembly lifecycle scenarios across runtime versions and diff the outcomes.

This file is imported by the worker inside runtime envs too, so it imports nothing.
"""

__version__ = "0.1.0"
