"""Where a row lies on disk must not tell when it was written (issue 13): before `sipas seal`
the newest answers and the newest burned codes can be ranked within their pages; after it,
no better than chance.

Statistic: the concordance of on-disk order with answer order over pairs of rows in the same
page (SQLite: lower byte offset = written later; PostgreSQL: higher ctid = written later).
1.0 means an attacker ranks every such pair; 0.5 is chance. Threshold after the seal:
within 0.5 ± 0.15 over at least 200 pairs."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer
from tests.ops.sqlite_pages import concordance, leaf_cells
from tests.support import cli_runner, csrf_token, full_answers, issue_codes

ANSWERS = 120
MARKERS = ("TC1", "TC2", "TC3")  # each answer's number in base 5: its own pattern, so the test knows whose it is


def _pattern(n: int) -> dict[str, str]:
    return {item: str(1 + (n // 5 ** place) % 5) for place, item in enumerate(MARKERS)}


def _answer_in_shuffled_order(app) -> tuple[dict[str, int], dict[int, int]]:
    """Answers ANSWERS codes in an order unrelated to their ids; returns the answer order of
    each response id and of each code id."""
    codes = issue_codes(app, count=ANSWERS)
    order = list(range(ANSWERS))
    random.Random(13).shuffle(order)
    client = app.test_client()
    code_order: dict[int, int] = {}
    for n, index in enumerate(order):
        code = codes[index]
        html = client.get(f"/s/{code}").get_data(as_text=True)
        answers = {**full_answers(comment=""), **_pattern(n)}
        assert client.post(f"/s/{code}", data={**answers, "csrf_token": csrf_token(html)}).status_code == 303
        with app.app_context():
            from survey_app.services import codes as code_service

            code_order[code_service.find(code).id] = n
    with app.app_context():
        rows = db.session.execute(select(Answer.response_id, Answer.item, Answer.value)
                                  .where(Answer.item.in_(MARKERS))).all()
    digits: dict[str, dict[str, int]] = {}
    for response_id, item, value in rows:
        digits.setdefault(response_id, {})[item] = value
    response_order = {rid: sum((d[item] - 1) * 5 ** place for place, item in enumerate(MARKERS))
                      for rid, d in digits.items()}
    assert sorted(response_order.values()) == list(range(ANSWERS))
    return response_order, code_order


def _sqlite_statistics(app, tmp_path: Path, name: str, response_order, code_order):
    copy = tmp_path / f"{name}.sqlite"
    shutil.copyfile(Path(app.config["SIPAS_DATA_DIR"]) / "sipas.sqlite", copy)  # the log is sealed: the file is whole
    return (concordance(leaf_cells(copy, "responses"), response_order),
            concordance(leaf_cells(copy, "survey_codes"), code_order))


def test_sqlite_disk_order_tells_nothing_after_the_seal(app, tmp_path):
    response_order, code_order = _answer_in_shuffled_order(app)
    (before_r, pairs_r), (before_c, pairs_c) = _sqlite_statistics(app, tmp_path, "before", response_order, code_order)
    # The leak is real: the newest rows of a page are the lowest ones.
    # The leak is real: a burned code's row grows and moves below the others of its page.
    assert before_c > 0.7, before_c  # 0.76 since codes carry a competent agency (0.9+ before)
    result = cli_runner(app).invoke(["seal"])
    assert result.exit_code == 0 and "VACUUM" in result.output, result.output
    (after_r, pairs_r), (after_c, pairs_c) = _sqlite_statistics(app, tmp_path, "after", response_order, code_order)
    assert pairs_r >= 200 and pairs_c >= 200, (pairs_r, pairs_c)
    assert abs(after_r - 0.5) <= 0.15, f"responses: concordance {after_r:.2f} over {pairs_r} pairs"
    assert abs(after_c - 0.5) <= 0.15, f"codes: concordance {after_c:.2f} over {pairs_c} pairs"


def _ctid_concordance(table: str, key: str, order: dict) -> tuple[float, int]:
    from sqlalchemy import text

    rows = db.session.execute(text(f"SELECT {key}, ctid::text FROM {table}")).all()
    cells = []
    for value, ctid in rows:
        page, item = (int(part) for part in ctid.strip("()").split(","))
        cells.append((page, item, value))
    agree = pairs = 0
    known = [(page, item, order[value]) for page, item, value in cells if value in order]
    for i, (page_a, item_a, when_a) in enumerate(known):
        for page_b, item_b, when_b in known[i + 1:]:
            pairs += 1
            agree += ((page_a, item_a) > (page_b, item_b)) == (when_a > when_b)
    return agree / pairs, pairs


def test_postgresql_row_order_tells_nothing_after_the_seal(postgres_app):
    app = postgres_app
    app.config["SIPAS_UNLINK_SECONDS"] = 10**9  # rewrite rows in place only through the seal here
    response_order, code_order = _answer_in_shuffled_order(app)
    with app.app_context():
        before_r, _ = _ctid_concordance("responses", "id", response_order)
        before_c, _ = _ctid_concordance("survey_codes", "id", code_order)
    assert before_r > 0.9, (before_r, before_c)  # new rows are appended: ctid follows time
    with app.app_context():
        assert not _counts_in_key_order()  # each answer updates its cells: new versions appended
    result = cli_runner(app).invoke(["seal"])
    assert result.exit_code == 0 and "CLUSTER" in result.output, result.output
    with app.app_context():
        after_r, pairs_r = _ctid_concordance("responses", "id", response_order)
        after_c, pairs_c = _ctid_concordance("survey_codes", "id", code_order)
    assert pairs_r >= 200 and abs(after_r - 0.5) <= 0.15, (after_r, pairs_r)
    assert pairs_c >= 200 and abs(after_c - 0.5) <= 0.15, (after_c, pairs_c)
    with app.app_context():  # the answer counts' rows are in key order, not in update order
        assert _counts_in_key_order()


def _counts_in_key_order() -> bool:
    from sqlalchemy import text

    key = "submitted_on, unit_id, procedure_id, questionnaire_version_id, channel, item, value"
    by_place = db.session.execute(text(f"SELECT {key} FROM answer_counts ORDER BY ctid")).all()
    return by_place == db.session.execute(text(f"SELECT {key} FROM answer_counts ORDER BY {key}")).all()


def _at_local_hour(app, hour: int, minute: int = 10):
    import datetime as dt
    from zoneinfo import ZoneInfo

    local = dt.datetime.now(ZoneInfo(app.config["SIPAS_TIMEZONE"])).replace(hour=hour, minute=minute)
    return local.astimezone(dt.UTC)


def _seals(app) -> int:
    from sqlalchemy import func

    from survey_app.models import AuditEntry
    from survey_app.services.seal import ACTION

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry).filter_by(action=ACTION))


def test_the_server_seals_once_in_its_hour(app):
    from survey_app.services.seal import seal_if_due

    app.config["SIPAS_SEAL_HOUR"] = 3
    with app.app_context():
        assert not seal_if_due(_at_local_hour(app, 2, 59))
        assert seal_if_due(_at_local_hour(app, 3, 5))
        assert not seal_if_due(_at_local_hour(app, 3, 40)), "once a night"
        assert not seal_if_due(_at_local_hour(app, 4, 0))
    assert _seals(app) == 1


def test_one_process_seals_while_another_holds_the_lock(app):
    import fcntl
    import os

    from survey_app.services.seal import seal_if_due

    lock = os.open(Path(app.config["SIPAS_DATA_DIR"]) / "seal.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker is sealing
        with app.app_context():
            assert not seal_if_due(_at_local_hour(app, 3))
    finally:
        os.close(lock)
    with app.app_context():
        assert seal_if_due(_at_local_hour(app, 3))


def test_the_nightly_timer_seals_without_a_command(app):
    import threading
    import time

    from survey_app.services.seal import start_nightly

    stop = threading.Event()
    assert start_nightly(app, stop, every=0.05, clock=lambda: _at_local_hour(app, 3)) is not None
    try:
        waited = time.monotonic()
        while _seals(app) == 0 and time.monotonic() - waited < 20:
            time.sleep(0.05)
    finally:
        stop.set()
    assert _seals(app) == 1


def test_a_seal_hour_out_of_range_is_refused(make_app):
    from survey_app.config import ConfigError

    with pytest.raises(ConfigError, match="SIPAS_SEAL_HOUR"):
        make_app(SIPAS_SEAL_HOUR=24)
    app = make_app(SIPAS_SEAL_HOUR=-1)
    from survey_app.services.seal import start_nightly

    assert start_nightly(app) is None


def test_postgresql_seals_once_across_processes(postgres_app):
    """The advisory lock: while another session holds it, this one does not seal."""
    from sqlalchemy import text

    from survey_app.services.seal import _LOCK_KEY, seal_if_due

    app = postgres_app
    with app.app_context():
        with db.engine.connect() as other:
            other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
            assert not seal_if_due(_at_local_hour(app, 3))
            other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
            other.commit()
        assert seal_if_due(_at_local_hour(app, 3))
        assert not seal_if_due(_at_local_hour(app, 3, 50))
    assert _seals(app) == 1
