"""kiosks: counter tablets paired with a unit, and the response channel ``kiosk``

Revision ID: 0007
Revises: 0006

``kiosks`` holds each tablet's unit, name, questionnaire, the hash of its one-time pairing
code (until used or expired), the hash of its device key, and the code a clerk has sent it
and it has not yet shown. ``responses.channel`` also takes ``kiosk``.

Widening the CHECK constraint: PostgreSQL drops and adds it. SQLite cannot alter a
constraint, and rebuilding ``responses`` (millions of rows, with the triggers of 0004 and
0005 and the answers that cascade from it) is what this migration must not risk; SQLite's
documented way for a change that no stored row can violate and that leaves the file format
alone (https://www.sqlite.org/lang_altertable.html, "otherwise", step 7) is to rewrite the
table's SQL in ``sqlite_schema`` under ``PRAGMA writable_schema``, bump the schema version
and check the file's integrity. Every existing row says single or counter, which the wider
constraint allows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NARROW = "channel IN ('single', 'counter')"
WIDE = "channel IN ('single', 'counter', 'kiosk')"


def _rewrite_sqlite_check(old: str, new: str) -> None:
    connection = op.get_bind()
    sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'responses'").scalar_one()
    if old not in sql:
        raise RuntimeError(f"responses: expected the constraint {old!r} in its SQL, found {sql!r}")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'responses'",
                               (sql.replace(old, new),))
    connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = connection.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"responses: the file's integrity check failed after widening the channel: {problems}")


def _replace_check(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_sqlite_check(old, new)
    else:
        op.drop_constraint(op.f("ck_responses_channel"), "responses", type_="check")
        op.create_check_constraint(op.f("ck_responses_channel"), "responses", new)


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("questionnaire", sa.String(length=64), nullable=False),
        sa.Column("pairing_hash", sa.String(length=64), nullable=True),
        sa.Column("pairing_expires_at", sa.DateTime(), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=True),
        sa.Column("paired_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("waiting_code_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_kiosks_unit_id_units")),
        sa.ForeignKeyConstraint(["waiting_code_id"], ["survey_codes.id"], ondelete="SET NULL",
                                name=op.f("fk_kiosks_waiting_code_id_survey_codes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosks")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_kiosks_key_hash")),
        sa.UniqueConstraint("pairing_hash", name=op.f("uq_kiosks_pairing_hash")),
    )
    op.create_index(op.f("ix_kiosks_unit_id"), "kiosks", ["unit_id"], unique=False)
    _replace_check(NARROW, WIDE)


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT 1 FROM responses WHERE channel = 'kiosk' LIMIT 1")).first():
        raise RuntimeError("responses: kiosk answers are stored; downgrading would make them invalid. "
                           "Keep this revision, or export and remove them first.")
    _replace_check(WIDE, NARROW)
    op.drop_index(op.f("ix_kiosks_unit_id"), table_name="kiosks")
    op.drop_table("kiosks")
