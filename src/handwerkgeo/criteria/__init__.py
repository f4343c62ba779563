"""Scoring criteria: each takes the plots frame (+ context) and returns a Series on its index."""
