"""Each response's packed answers (migration 0005) equal its answers after every way they
arrive, change and leave: the citizen's form, bulk inserts, a changed or deleted answer, and
the migration's own backfill of responses stored before it."""

from __future__ import annotations

import sqlalchemy as sa

from survey_app.extensions import db
from tests.analysis.test_indb import seed_random
from tests.app.test_answer_counts import down_and_up
from tests.support import store_random_answers


def packed(app) -> dict[str, str | None]:
    with app.app_context():
        return dict(db.session.execute(sa.text("SELECT id, answer_codes FROM responses")).all())


def rebuilt(app) -> dict[str, str | None]:
    """The strings built here from the answers table and the positions."""
    with app.app_context():
        positions: dict[int, dict[str, int]] = {}
        widths: dict[int, int] = {}
        for version, item, position, width in db.session.execute(sa.text(
                "SELECT questionnaire_version_id, item, position, width FROM answer_positions")):
            positions.setdefault(version, {})[item] = position - 1
            widths[version] = width
        out: dict[str, list[str] | None] = {}
        versions = dict(db.session.execute(sa.text("SELECT id, questionnaire_version_id FROM responses")).all())
        for response_id in versions:
            out[response_id] = None
        for response_id, item, value in db.session.execute(sa.text("SELECT response_id, item, value FROM answers")):
            version = versions[response_id]
            chars = out[response_id] or ["."] * widths[version]
            chars[positions[version][item]] = chr(48 + value)
            out[response_id] = chars
        return {k: None if v is None else "".join(v) for k, v in out.items()}


def test_codes_follow_the_form_bulk_inserts_changes_and_deletions(backend_app):
    store_random_answers(backend_app, count=6, seed=1)
    seed_random(backend_app, 120, seed=3)
    got = packed(backend_app)
    assert got == rebuilt(backend_app)
    assert sum(v is not None for v in got.values()) >= 120 and all(v is None or len(v) == 29 for v in got.values())
    with backend_app.app_context():
        some = db.session.scalars(sa.text("SELECT id FROM responses ORDER BY id LIMIT 10")).all()
        ids = sa.bindparam("ids", expanding=True)
        db.session.execute(sa.text("UPDATE answers SET value = 1 WHERE response_id IN :ids").bindparams(ids),
                           {"ids": some[:5]})
        db.session.execute(sa.text("DELETE FROM answers WHERE item IN ('TT1', 'HL') AND response_id IN :ids")
                           .bindparams(ids), {"ids": some[5:]})
        db.session.execute(sa.text("DELETE FROM responses WHERE id = :id"), {"id": some[0]})
        db.session.commit()
    assert packed(backend_app) == rebuilt(backend_app)


def test_the_migration_packs_what_was_stored_before_it(backend_app):
    seed_random(backend_app, 80, seed=4)
    before = packed(backend_app)
    down_and_up(backend_app, "0004", "answer_positions")
    assert packed(backend_app) == before == rebuilt(backend_app)


def test_load_database_reads_the_packed_answers_as_the_answers_table_gives_them(backend_app, monkeypatch):
    import pandas as pd

    import analysis
    from analysis import io

    store_random_answers(backend_app, count=5, seed=2)
    url = seed_random(backend_app, 150, seed=9)
    packed_frame = analysis.load_database(url, questionnaire="sipas-2023")
    monkeypatch.setattr(io, "_packed_answers", lambda conn: False)
    pivoted = analysis.load_database(url, questionnaire="sipas-2023")
    assert len(packed_frame) == 155
    pd.testing.assert_frame_equal(packed_frame, pivoted)


def test_packed_answers_that_cannot_be_read_are_refused_not_misread(app):
    import pytest

    import analysis

    url = seed_random(app, 20, seed=6)
    with app.app_context():
        first, second = db.session.scalars(sa.text("SELECT id FROM responses ORDER BY id LIMIT 2")).all()
        db.session.execute(sa.text("UPDATE answers SET value = 80 WHERE response_id = :id"), {"id": first})
        db.session.commit()
    with pytest.raises(ValueError, match="an answer value outside 0–74 is stored"):
        analysis.load_database(url, questionnaire="sipas-2023")
    with app.app_context():
        db.session.execute(sa.text("UPDATE answers SET value = 3 WHERE response_id = :id"), {"id": first})
        db.session.execute(sa.text("UPDATE responses SET answer_codes = '55' WHERE id = :id"), {"id": second})
        db.session.commit()
    with pytest.raises(ValueError, match="do not have 29 places; the answers table is intact"):
        analysis.load_database(url, questionnaire="sipas-2023")
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM answer_positions"))
        db.session.commit()
    with pytest.raises(ValueError, match="has no answer positions for it"):
        analysis.load_database(url, questionnaire="sipas-2023")
