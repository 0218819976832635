"""Runnable benchmarks (importable from the repository root so tests can reuse them)."""
