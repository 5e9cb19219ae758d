"""Running cases: segments in isolated worker processes, runs, the coordinator."""
