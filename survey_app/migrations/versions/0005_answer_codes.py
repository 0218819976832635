"""each response's answers packed in one column, kept by triggers, so a process reads a
million responses' answers as a million short strings instead of 25 million rows

Revision ID: 0005
Revises: 0004

``answer_positions`` gives each rated item of each questionnaire version its position in
the string (1-based, in the version's answer-column order) and the string's width.
``responses.answer_codes`` holds one character per position: ``chr(48 + value)`` for an
answer (``'0'`` + value, values 0-74), ``'.'`` for a blank, ``'~'`` for a value outside
0-74 (which the loader refuses rather than misread); NULL for a response without answers.
The ``answers`` table stays the source of truth: triggers rewrite the string in the
transaction that inserts, changes or deletes an answer (SQLite: a row trigger sets one
character; PostgreSQL: one statement trigger per statement rebuilds the strings of the
responses it touched from their answers).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: The longest string: sync_questionnaires refuses a version with more rated items.
MAX_WIDTH = 250  # survey_app.database.ANSWER_CODES_WIDTH
_DOTS = "." * MAX_WIDTH
_CHAR = "CASE WHEN {0} BETWEEN 0 AND 74 THEN {1}(48 + {0}) ELSE '~' END"


def upgrade() -> None:
    op.create_table(
        "answer_positions",
        sa.Column("questionnaire_version_id", sa.Integer(),
                  sa.ForeignKey("questionnaire_versions.id", name=op.f("fk_answer_positions_questionnaire_version_id_questionnaire_versions")),
                  nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("questionnaire_version_id", "item", name=op.f("pk_answer_positions")),
    )
    # A plain ADD COLUMN on both databases (no table rebuild: the triggers on responses stay).
    op.add_column("responses", sa.Column("answer_codes", sa.String(length=MAX_WIDTH), nullable=True))
    bind = op.get_bind()
    _fill_positions(bind)
    if bind.dialect.name == "sqlite":
        _sqlite_triggers()
        _sqlite_backfill(bind)
    else:
        _postgres_triggers()
        op.execute(_REBUILD.format(which="WHERE EXISTS (SELECT 1 FROM answers a WHERE a.response_id = r.id)"))


def _fill_positions(bind: sa.Connection) -> None:
    import questionnaires

    rows = bind.execute(sa.text("SELECT id, questionnaire_id, version, content FROM questionnaire_versions")).all()
    records = []
    for version_id, qid, version, content in rows:
        columns = questionnaires.load_text(content, f"database snapshot {qid}@{version}").answer_columns
        records += [{"v": version_id, "item": item, "p": i + 1, "w": len(columns)} for i, item in enumerate(columns)]
    if records:
        bind.execute(sa.text("INSERT INTO answer_positions (questionnaire_version_id, item, position, width) "
                             "VALUES (:v, :item, :p, :w)"), records)


def _sqlite_set(row: str, value: str) -> str:
    """The statement that writes ``value`` (an SQL expression) at the position of answer
    ``row`` (NEW or OLD) in its response's string."""
    current = f"COALESCE(answer_codes, substr('{_DOTS}', 1, p.width))"
    return (f"UPDATE responses SET answer_codes = substr({current}, 1, p.position - 1) || {value} "
            f"|| substr({current}, p.position + 1) FROM answer_positions p "
            f"WHERE responses.id = {row}.response_id AND p.questionnaire_version_id = "
            f"responses.questionnaire_version_id AND p.item = {row}.item;")


def _sqlite_triggers() -> None:
    char = _CHAR.format("NEW.value", "char")
    op.execute(f"CREATE TRIGGER answer_codes_insert AFTER INSERT ON answers BEGIN {_sqlite_set('NEW', char)} END")
    op.execute(f"CREATE TRIGGER answer_codes_update AFTER UPDATE OF value ON answers BEGIN "
               f"{_sqlite_set('NEW', char)} END")
    op.execute(f"CREATE TRIGGER answer_codes_delete AFTER DELETE ON answers BEGIN {_sqlite_set('OLD', repr('.'))} END")


def _sqlite_backfill(bind: sa.Connection) -> None:
    """Strings for the responses stored before this migration, built from their answers in
    one ordered pass (SQLite 3.40 has no ordered group_concat)."""
    positions: dict[int, dict[str, int]] = {}
    widths: dict[int, int] = {}
    for version_id, item, position, width in bind.execute(sa.text(
            "SELECT questionnaire_version_id, item, position, width FROM answer_positions")):
        positions.setdefault(version_id, {})[item] = position - 1
        widths[version_id] = width
    answers = bind.execute(sa.text(
        "SELECT a.response_id, r.questionnaire_version_id, a.item, a.value FROM answers a "
        "JOIN responses r ON r.id = a.response_id ORDER BY a.response_id"))
    update = sa.text("UPDATE responses SET answer_codes = :codes WHERE id = :id")
    batch: list[dict[str, str]] = []
    current, chars = None, None
    for response_id, version_id, item, value in answers:
        if response_id != current:
            if chars is not None:
                batch.append({"id": current, "codes": "".join(chars)})
            current = response_id
            chars = ["."] * widths.get(version_id, 0) if version_id in positions else None
        where = positions.get(version_id, {}).get(item)
        if chars is not None and where is not None:
            chars[where] = chr(48 + value) if 0 <= value <= 74 else "~"
        if len(batch) >= 10_000:
            bind.execute(update, batch)
            batch = []
    if chars is not None:
        batch.append({"id": current, "codes": "".join(chars)})
    if batch:
        bind.execute(update, batch)


# The strings of the responses {which}, rebuilt from their answers in position order: a
# subquery per response, read through the answers' key (response_id, item), so a trigger
# that touched one response reads that response's answers whatever the planner guesses.
_REBUILD = (
    "UPDATE responses r SET answer_codes = (SELECT string_agg(CASE WHEN a.value IS NULL THEN '.' ELSE "
    f"{_CHAR.format('a.value', 'chr')} END, '' ORDER BY p.position) FROM answer_positions p "
    "LEFT JOIN answers a ON a.response_id = r.id AND a.item = p.item "
    "WHERE p.questionnaire_version_id = r.questionnaire_version_id) {which}")


def _postgres_triggers() -> None:
    # Statement triggers: one rebuild per statement, whatever number of answers it wrote
    # (the citizen's answers are one INSERT ... SELECT unnest).
    for event, table in (("INSERT", "new_answers"), ("UPDATE", "new_answers"), ("DELETE", "old_answers")):
        name = f"answer_codes_{event.lower()}"
        which = f"WHERE r.id IN (SELECT n.response_id FROM {table} n)"
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"{_REBUILD.format(which=which)}; RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON answers REFERENCING "
                   f"{'OLD' if event == 'DELETE' else 'NEW'} TABLE AS {table} FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION {name}()")


def downgrade() -> None:
    names = ("answer_codes_insert", "answer_codes_update", "answer_codes_delete")
    if op.get_bind().dialect.name == "sqlite":
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON answers")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    # Not batch mode: rebuilding responses on SQLite would break the triggers that name it.
    op.execute("ALTER TABLE responses DROP COLUMN answer_codes")
    op.drop_table("answer_positions")
