"""Benchmarks that print figures (not tests); a package so tests can check one runs."""
