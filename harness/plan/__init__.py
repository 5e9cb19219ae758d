"""The plan: which runtimes (named by their pins) and which runs. Pure."""
