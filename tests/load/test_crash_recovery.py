"""kill -9 of ``sipas serve`` (gunicorn master and workers) in the middle of a load, then a
restart: every answer acknowledged with a 303 is in the database, no answer is without its
response row, and the database passes its integrity check. A small run of benchmarks/load."""

from __future__ import annotations

import pytest

from benchmarks.load.harness import LoadConfig, run_load

# A bound, not the expected time (35-45 s for both backends on a quiet 2-core machine).
SMALL = {"codes": 300, "clients": 20, "duplicates": 20, "timeout": 180}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_kill_9_mid_load_loses_no_acknowledged_answer(backend, request, tmp_path):
    admin_url = request.getfixturevalue("postgres_admin_url") if backend == "postgres" else None

    report = run_load(LoadConfig(backend=backend, crash=True, **SMALL), tmp_path, admin_url)

    assert report.ok, report.markdown() + "\n\nserver log:\n" + report.log_tail
    # The kill landed mid-load and clients finished on the restarted server.
    assert report.crash is not None and len(report.crash.killed) >= 3  # master + 2 workers
    after_restart = [o for o in report.run.outcomes if o.stored and o.end > report.crash.restarted_at]
    assert after_restart, "no survey was stored by the restarted server"
    assert report.db.responses == SMALL["codes"]
