"""The analysis of results: normalized messages, the diff, the baseline, the gate. Pure."""
