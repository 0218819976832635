"""answer counts per (day, unit, procedure, questionnaire version, channel, item, level),
kept by triggers in the transaction that stores (or deletes) a response, so the analysis
counts levels without reading the answers table

Revision ID: 0004
Revises: 0003

``procedure_id`` is -1 for a response without a procedure (a key column cannot be NULL);
item '' with value 0 counts the responses themselves. Answers are deleted only with their
response (ON DELETE CASCADE): the counts follow the response's deletion, not the answers'.
A response whose day, unit, procedure, version or channel is changed (a backdated test
fixture, a unit remapped) moves its counts with it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KEY = ("submitted_on", "unit_id", "procedure_id", "questionnaire_version_id", "channel", "item", "value")
_KEY = ", ".join(KEY)
_MOVED = "submitted_on, unit_id, procedure_id, questionnaire_version_id, channel"


def _key_of(row: str) -> str:
    """The response's part of the key, from a row of responses (an alias, NEW or OLD)."""
    return (f"{row}.submitted_on, {row}.unit_id, COALESCE({row}.procedure_id, -1), "
            f"{row}.questionnaire_version_id, {row}.channel")


_RESPONSE_KEY = _key_of("r")
_SAME_RESPONSE = ("submitted_on = {0}.submitted_on AND unit_id = {0}.unit_id AND "
                  "procedure_id = COALESCE({0}.procedure_id, -1) AND "
                  "questionnaire_version_id = {0}.questionnaire_version_id AND channel = {0}.channel")


def upgrade() -> None:
    op.create_table(
        "answer_counts",
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_version_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_answer_counts")),
        sqlite_with_rowid=False,
    )
    op.execute(f"INSERT INTO answer_counts ({_KEY}, n) SELECT {_RESPONSE_KEY}, '', 0, COUNT(*) "
               "FROM responses r GROUP BY r.submitted_on, r.unit_id, COALESCE(r.procedure_id, -1), "
               "r.questionnaire_version_id, r.channel")
    op.execute(f"INSERT INTO answer_counts ({_KEY}, n) SELECT {_RESPONSE_KEY}, a.item, a.value, COUNT(*) "
               "FROM answers a JOIN responses r ON r.id = a.response_id "
               "GROUP BY r.submitted_on, r.unit_id, COALESCE(r.procedure_id, -1), r.questionnaire_version_id, "
               "r.channel, a.item, a.value")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgres_triggers()


def _sqlite_triggers() -> None:
    upsert = f"ON CONFLICT ({_KEY}) DO UPDATE SET n = n + excluded.n"
    remove = (  # the counts of response OLD, taken off its key
        "UPDATE answer_counts SET n = n - (SELECT COUNT(*) FROM answers a WHERE a.response_id = OLD.id "
        "AND a.item = answer_counts.item AND a.value = answer_counts.value) "
        f"WHERE {_SAME_RESPONSE.format('OLD')} AND item <> ''; "
        f"UPDATE answer_counts SET n = n - 1 WHERE {_SAME_RESPONSE.format('OLD')} AND item = ''; ")
    add_response = (f"INSERT INTO answer_counts ({_KEY}, n) VALUES ({_key_of('NEW')}, '', 0, 1) {upsert}; ")
    op.execute(f"CREATE TRIGGER answer_counts_response AFTER INSERT ON responses BEGIN {add_response} END")
    op.execute(
        "CREATE TRIGGER answer_counts_answer AFTER INSERT ON answers BEGIN "
        f"INSERT INTO answer_counts ({_KEY}, n) SELECT {_RESPONSE_KEY}, NEW.item, NEW.value, 1 "
        f"FROM responses r WHERE r.id = NEW.response_id {upsert}; END")
    op.execute(f"CREATE TRIGGER answer_counts_delete BEFORE DELETE ON responses BEGIN {remove} END")
    op.execute(
        f"CREATE TRIGGER answer_counts_move AFTER UPDATE OF {_MOVED} ON responses BEGIN {remove}{add_response}"
        f"INSERT INTO answer_counts ({_KEY}, n) SELECT {_key_of('NEW')}, a.item, a.value, COUNT(*) "
        f"FROM answers a WHERE a.response_id = NEW.id GROUP BY a.item, a.value {upsert}; END")


def _postgres_triggers() -> None:
    upsert = f"ON CONFLICT ({_KEY}) DO UPDATE SET n = c.n + EXCLUDED.n"
    # Statement triggers with transition tables: one upsert per statement (the citizen's
    # answers are one INSERT ... SELECT unnest), its rows in key order, so concurrent
    # submissions lock shared rows in the same order and never deadlock.
    op.execute(
        "CREATE FUNCTION answer_counts_responses() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO answer_counts AS c ({_KEY}, n) SELECT {_RESPONSE_KEY}, '', 0, COUNT(*) "
        "FROM new_responses r GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 "
        f"{upsert}; RETURN NULL; END $$")
    op.execute(
        "CREATE TRIGGER answer_counts_response AFTER INSERT ON responses "
        "REFERENCING NEW TABLE AS new_responses FOR EACH STATEMENT EXECUTE FUNCTION answer_counts_responses()")
    op.execute(
        "CREATE FUNCTION answer_counts_answers() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO answer_counts AS c ({_KEY}, n) SELECT {_RESPONSE_KEY}, a.item, a.value, COUNT(*) "
        "FROM new_answers a JOIN responses r ON r.id = a.response_id "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7 "
        f"{upsert}; RETURN NULL; END $$")
    op.execute(
        "CREATE TRIGGER answer_counts_answer AFTER INSERT ON answers "
        "REFERENCING NEW TABLE AS new_answers FOR EACH STATEMENT EXECUTE FUNCTION answer_counts_answers()")
    remove = (  # the counts of response OLD, taken off its key
        "UPDATE answer_counts c SET n = c.n - d.k FROM (SELECT a.item, a.value, COUNT(*) AS k FROM answers a "
        "WHERE a.response_id = OLD.id GROUP BY a.item, a.value) d "
        f"WHERE {_SAME_RESPONSE.format('OLD')} AND c.item = d.item AND c.value = d.value; "
        f"UPDATE answer_counts SET n = n - 1 WHERE {_SAME_RESPONSE.format('OLD')} AND item = ''; ")
    op.execute(
        "CREATE FUNCTION answer_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{remove}RETURN OLD; END $$")
    op.execute(
        "CREATE TRIGGER answer_counts_delete BEFORE DELETE ON responses "
        "FOR EACH ROW EXECUTE FUNCTION answer_counts_delete()")
    op.execute(
        "CREATE FUNCTION answer_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF ({_key_of('OLD')}) IS NOT DISTINCT FROM ({_key_of('NEW')}) THEN RETURN NULL; END IF; {remove}"
        f"INSERT INTO answer_counts AS c ({_KEY}, n) VALUES ({_key_of('NEW')}, '', 0, 1) {upsert}; "
        f"INSERT INTO answer_counts AS c ({_KEY}, n) SELECT {_key_of('NEW')}, a.item, a.value, COUNT(*) "
        "FROM answers a WHERE a.response_id = NEW.id GROUP BY a.item, a.value ORDER BY a.item, a.value "
        f"{upsert}; RETURN NULL; END $$")
    op.execute(
        f"CREATE TRIGGER answer_counts_move AFTER UPDATE OF {_MOVED} ON responses "
        "FOR EACH ROW EXECUTE FUNCTION answer_counts_move()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("answer_counts_response", "answer_counts_answer", "answer_counts_delete", "answer_counts_move"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for table, name in (("responses", "answer_counts_response"), ("answers", "answer_counts_answer"),
                            ("responses", "answer_counts_delete"), ("responses", "answer_counts_move")):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in ("answer_counts_responses", "answer_counts_answers", "answer_counts_delete", "answer_counts_move"):
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("answer_counts")
