"""The answer counts (migration 0004) equal a recount of the answers after every way
responses arrive, change and leave: the citizen's form, bulk inserts, a changed day or unit,
deletion, and the migration's own backfill of responses stored before it."""

from __future__ import annotations

import sqlalchemy as sa

from survey_app.extensions import db
from tests.analysis.test_indb import seed_random
from tests.support import store_random_answers

RECOUNT = """
SELECT submitted_on, unit_id, procedure_id, questionnaire_version_id, channel, item, value, n FROM (
  SELECT r.submitted_on, r.unit_id, COALESCE(r.procedure_id, -1) AS procedure_id, r.questionnaire_version_id,
         r.channel, a.item, a.value, COUNT(*) AS n
  FROM answers a JOIN responses r ON r.id = a.response_id
  GROUP BY r.submitted_on, r.unit_id, COALESCE(r.procedure_id, -1), r.questionnaire_version_id, r.channel,
           a.item, a.value
  UNION ALL
  SELECT r.submitted_on, r.unit_id, COALESCE(r.procedure_id, -1), r.questionnaire_version_id, r.channel, '', 0,
         COUNT(*)
  FROM responses r
  GROUP BY r.submitted_on, r.unit_id, COALESCE(r.procedure_id, -1), r.questionnaire_version_id, r.channel) t
"""
KEPT = ("SELECT submitted_on, unit_id, procedure_id, questionnaire_version_id, channel, item, value, n "
        "FROM answer_counts WHERE n <> 0")


def counts(app, sql: str) -> set[tuple]:
    with app.app_context():
        return {tuple(str(v) for v in row) for row in db.session.execute(sa.text(sql))}


def test_counts_follow_the_form_bulk_inserts_and_deletions(backend_app):
    store_random_answers(backend_app, count=6, seed=1)
    seed_random(backend_app, 120, seed=3)
    assert counts(backend_app, KEPT) == counts(backend_app, RECOUNT)
    with backend_app.app_context():
        doomed = db.session.scalars(sa.text("SELECT id FROM responses ORDER BY id LIMIT 25")).all()
        db.session.execute(sa.text("DELETE FROM responses WHERE id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)), {"ids": doomed})
        db.session.commit()
    assert counts(backend_app, KEPT) == counts(backend_app, RECOUNT)


def test_counts_move_with_a_response_whose_day_or_unit_changes(backend_app):
    seed_random(backend_app, 60, seed=6)
    with backend_app.app_context():
        other_unit = db.session.scalar(sa.text("SELECT MAX(id) FROM units"))
        db.session.execute(sa.text("UPDATE responses SET submitted_on = :day WHERE id < 'r6x00000020'"),
                           {"day": "2023-05-17"})
        db.session.execute(sa.text("UPDATE responses SET unit_id = :unit, procedure_id = NULL "
                                   "WHERE id > 'r6x00000040'"), {"unit": other_unit})
        db.session.execute(sa.text("UPDATE responses SET burst = burst"))  # the unlink rewrite: no move
        db.session.commit()
    assert counts(backend_app, KEPT) == counts(backend_app, RECOUNT)


def down_and_up(app, revision: str, table: str) -> None:
    """Migrate the app's database down to ``revision`` (which lacks ``table``) and up again."""
    from alembic import command

    from survey_app.database import alembic_config

    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
        db.session.remove()
        db.engine.dispose()
        command.downgrade(alembic_config(url), revision)
        with db.engine.connect() as conn:
            assert table not in sa.inspect(conn).get_table_names()
        command.upgrade(alembic_config(url), "head")
        db.engine.dispose()


def test_the_migration_counts_what_was_stored_before_it(backend_app):
    seed_random(backend_app, 80, seed=4)
    down_and_up(backend_app, "0003", "answer_counts")
    assert counts(backend_app, KEPT) == counts(backend_app, RECOUNT)
    assert len(counts(backend_app, KEPT)) > 80
