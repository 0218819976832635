"""The dashboard's per-process response cache: one cheap data version per request, new days
reloaded alone, anything else reloaded in full, and signed snapshots for a restarted server."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import analysis
from survey_app.extensions import db
from survey_app.services import dataset, snapshots
from tests.support import store_random_answers


@pytest.fixture
def loads(monkeypatch):
    """Every load_database call the cache makes, as its date_from (None: a full load)."""
    calls: list = []
    real = analysis.load_database

    def recording(*args, **kwargs):
        calls.append(kwargs.get("date_from"))
        return real(*args, **kwargs)

    monkeypatch.setattr(dataset.analysis, "load_database", recording)
    dataset.cache.clear()
    yield calls
    dataset.cache.clear()


def frame(app) -> pd.DataFrame:
    with app.app_context():
        return dataset.cache.frame(db.engine, "sipas-2023")[0]


def fresh(app) -> pd.DataFrame:
    """A full load, as the cache keeps it (answers in float32: see test_compact_is_exact)."""
    with app.app_context():
        return dataset.compact(analysis.load_database(db.engine, questionnaire="sipas-2023"))


def test_compact_is_exact(app):
    """The cache keeps answers in float32, which holds whole numbers and blanks exactly: the
    values are the full load's, and a column float32 cannot hold exactly keeps its type."""
    store_random_answers(app, count=30, seed=2)
    with app.app_context():
        loaded = analysis.load_database(db.engine, questionnaire="sipas-2023")
    kept = dataset.compact(loaded)
    assert kept["TC1"].dtype == "float32" and kept["HL"].dtype == "float32"
    assert kept.memory_usage(deep=True).sum() < loaded.memory_usage(deep=True).sum()
    pd.testing.assert_frame_equal(kept.astype({c: "float64" for c in kept if kept[c].dtype == "float32"}), loaded)
    odd = loaded.assign(weight=0.1)
    assert dataset.compact(odd)["weight"].dtype == "float64"


def backdate(app, days: int) -> None:
    """Date every stored response ``days`` ago (as if the cache had been filled back then)."""
    from sqlalchemy import update

    from survey_app.models import Response

    with app.app_context():
        db.session.execute(update(Response).values(submitted_on=dt.date.today() - dt.timedelta(days=days)))
        db.session.commit()


def test_new_responses_reload_only_their_days_and_match_a_full_load(app, loads):
    store_random_answers(app, count=4, seed=1)
    backdate(app, 3)
    assert len(frame(app)) == 4 and loads == [None]
    store_random_answers(app, count=2, seed=2)
    grown = frame(app)
    assert len(grown) == 6 and loads == [None, dt.date.today() - dt.timedelta(days=3)]
    pd.testing.assert_frame_equal(grown, fresh(app))


def test_a_changed_past_reloads_everything(app, loads):
    store_random_answers(app, count=3, seed=3)
    backdate(app, 10)
    assert len(frame(app)) == 3
    store_random_answers(app, count=2, seed=4)
    backdate(app, 20)  # the cached days now hold other rows: not something a day's reload can fix
    store_random_answers(app, count=1, seed=5)
    assert len(frame(app)) == 6 and loads[-1] is None
    pd.testing.assert_frame_equal(frame(app), fresh(app))


def test_the_data_version_is_asked_once_per_request(app, client, auth, monkeypatch):
    store_random_answers(app, count=2, seed=6)
    asked = []
    real = dataset.data_version
    monkeypatch.setattr(dataset, "data_version", lambda *a: asked.append(1) or real(*a))
    auth.login("analyst")
    assert client.get("/analyst/trend").status_code == 200  # three cached results on this page
    assert len(asked) == 1


def test_a_restarted_process_starts_from_the_snapshot(app, loads):
    store_random_answers(app, count=5, seed=7)
    backdate(app, 2)
    before = frame(app)
    snapshots.wait_for_writes()
    saved = list(snapshots.SnapshotStore.for_app(app).directory.glob("*.frame"))
    assert len(saved) == 1 and saved[0].stat().st_mode & 0o077 == 0
    dataset.cache.clear()  # a new process
    store_random_answers(app, count=1, seed=8)
    after = frame(app)
    assert loads == [None, dt.date.today() - dt.timedelta(days=2)]  # the snapshot, then its last day on
    assert len(after) == len(before) + 1
    pd.testing.assert_frame_equal(after, fresh(app))


def test_a_tampered_snapshot_is_ignored(app, loads, caplog):
    store_random_answers(app, count=3, seed=9)
    frame(app)
    snapshots.wait_for_writes()
    [path] = snapshots.SnapshotStore.for_app(app).directory.glob("*.frame")
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0xFF
    path.write_bytes(bytes(blob))
    dataset.cache.clear()
    assert len(frame(app)) == 3
    assert loads == [None, None] and "not signed by this server's key" in caplog.text


def test_each_database_has_its_own_snapshot(app, make_app, tmp_path):
    other = make_app(f"sqlite:///{tmp_path / 'other.sqlite'}", SIPAS_SECRET_KEY=app.config["SIPAS_SECRET_KEY"])
    store = snapshots.SnapshotStore.for_app(app)
    with app.app_context():
        mine = store.path(db.engine, "sipas-2023")
    with other.app_context():
        theirs = store.path(db.engine, "sipas-2023")
    assert mine.parent == theirs.parent and mine != theirs
    assert "sqlite" not in mine.name and str(tmp_path) not in mine.name  # nothing about the server shows


def test_snapshots_can_be_switched_off(app, make_app, loads):
    app = make_app(SIPAS_DASHBOARD_SNAPSHOTS=False)  # the same database, its organisation seeded
    store_random_answers(app, count=2, seed=11)
    frame(app)
    snapshots.wait_for_writes()
    assert not list(snapshots.SnapshotStore.for_app(app).directory.glob("*.frame"))


def test_warming_fills_the_cache_in_the_background(app, loads):
    store_random_answers(app, count=2, seed=12)
    dataset.warm_in_background(app).join(timeout=60)
    assert loads == [None, None]  # sipas-2023 and tt01-counter, each in full
    assert len(frame(app)) == 2 and loads == [None, None]  # the page found it loaded


def test_the_app_runs_blas_on_one_thread(app):
    from threadpoolctl import threadpool_info

    pools = [info for info in threadpool_info() if info["user_api"] == "blas"]
    assert pools and all(info["num_threads"] == 1 for info in pools)


@pytest.mark.parametrize("warm", [True, False])
def test_each_server_worker_fills_its_cache_when_it_loads_the_app(make_app, monkeypatch, warm):
    from gunicorn.app.base import BaseApplication

    from survey_app.commands import server

    app = make_app(SIPAS_WARM_DASHBOARD=warm)
    loaded, warmed = [], []
    monkeypatch.setattr(dataset, "warm_in_background", warmed.append)
    monkeypatch.setattr(BaseApplication, "run", lambda self: loaded.append(self.load()))  # what a worker does
    server.run_gunicorn(lambda: app, host="127.0.0.1", port=8000, workers=1, threads=1)
    assert loaded == [app] and warmed == ([app] if warm else [])
