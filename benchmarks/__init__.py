"""Benchmarks for cleanfeed. ``python -m benchmarks.devset --help`` runs the dev-set benchmark."""
