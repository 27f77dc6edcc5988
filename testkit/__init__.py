"""Scene and file builders shared by tests and benchmarks (never shipped)."""
