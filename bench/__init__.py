"""Benchmarks (not part of `make test`): see README.md here."""
