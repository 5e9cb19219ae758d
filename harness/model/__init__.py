"""The typed model both sides share: outcomes, records, runtimes (stdlib only, Python 3.9)."""
