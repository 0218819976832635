"""One BLAS thread per process.

The server already runs a thread per request in each worker, on every core. OpenBLAS starts
its own pool of threads per matrix product on top of that, and on a busy machine they spin
waiting for each other: the priorities page's correlations took 7-10 s at a million
responses with the default pool and 0.3 s with one thread (2 shared cores, docs/benchmarks.md).
"""

from __future__ import annotations

import os
import sys

_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_blas_threads() -> None:
    """Use one BLAS thread unless the operator set a number in the environment."""
    if any(os.environ.get(name) for name in _VARIABLES):
        return
    for name in _VARIABLES:  # read by the BLAS library when numpy loads it later
        os.environ[name] = "1"
    if "numpy" in sys.modules:  # already loaded: tell the running library
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
