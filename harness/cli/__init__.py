"""The `wasm-compat` command line: parses, calls the stages, prints."""
