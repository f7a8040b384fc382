"""Evaluation commands (benchmarks that print numbers; they do not assert)."""
