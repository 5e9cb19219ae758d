"""Searches over releases and lifecycles: bisect and explore."""
