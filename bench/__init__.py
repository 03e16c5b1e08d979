"""Benchmarks, run by hand (README: Benchmarks)."""
