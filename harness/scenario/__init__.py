"""Scenario files: loading and checking them, the scenario model, fixtures, skeletons."""
