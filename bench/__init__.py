"""Benchmarks that print figures and ratios (DESIGN.md, Layout); see README.md."""
