"""The garbage collector's thresholds for a server process.

A page of a province's dashboard or a clerk's page builds and drops a few hundred thousand
objects (a row, option or estimate for each of 3,662 units and 2,000 procedures). With
CPython's default first threshold (700 allocations) many of them live through enough young
collections to be promoted, and every second request paid a full collection of the ~390,000
objects a warm worker keeps (libraries, the dashboard's caches): 0.16-0.18 s, which took
the warm pages from 0.07-0.13 s to 0.25-0.6 s (docs/benchmarks.md, "Province scale").
With a first threshold of 50,000 a request's objects die young and no full collection ran
in 24 such requests.
"""

from __future__ import annotations

import gc

DEFAULT_FIRST = 700  # CPython's default first threshold
SERVER_FIRST = 50_000


def tune_collector() -> None:
    """Raise the first threshold to ``SERVER_FIRST`` unless something already changed it."""
    first, second, third = gc.get_threshold()
    if first == DEFAULT_FIRST:
        gc.set_threshold(SERVER_FIRST, second, third)
