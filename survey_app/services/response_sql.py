"""The statements that store responses (services.responses.store), prepared once.

SQLite: submissions that arrive together are stored together (group_commit): one burn of
all their single-use codes, then one multi-row INSERT per table. PostgreSQL: each
submission is one statement.

Parameters: the response's columns (``RESPONSE_COLUMNS``); ``code_id`` (``code0``..) and
``now`` for the burn; per answer ``response_id``, ``item``, ``value`` (PostgreSQL: the
``items`` and ``values`` arrays); ``comment_id`` and ``text`` for the comment.
"""

from __future__ import annotations

import functools

from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    SmallInteger,
    String,
    Text,
    bindparam,
    cast,
    exists,
    func,
    insert,
    select,
    true,
)

from .. import rawsql
from ..models import CHOICE_FIELDS, Answer, Comment, Response, SurveyCode
from .codes import BURN, burn_where

RESPONSE_COLUMNS = ("id", "questionnaire_version_id", "unit_id", "procedure_id", "channel", "submitted_on",
                    "same_day", "burst", *CHOICE_FIELDS)
# The comment shares the response's unit, procedure, version and date, nothing else.
COMMENT_COLUMNS = ("questionnaire_version_id", "unit_id", "procedure_id", "submitted_on")

INSERT_RESPONSE = rawsql.Statement(insert(Response), column_keys=RESPONSE_COLUMNS)
INSERT_ANSWER = rawsql.Statement(insert(Answer), column_keys=("response_id", "item", "value"))
INSERT_COMMENT = rawsql.Statement(
    insert(Comment).values(id=bindparam("comment_id"), text=bindparam("text"),
                           **{name: bindparam(name) for name in COMMENT_COLUMNS}))


@functools.lru_cache(maxsize=64)
def burn_codes(count: int) -> rawsql.Statement:
    """Burn ``count`` single-use codes (``code0``..) at once; returns the ids burned."""
    ids = [bindparam(f"code{n}") for n in range(count)]
    return rawsql.Statement(BURN.where(burn_where(SurveyCode.id.in_(ids))).returning(SurveyCode.id))


def _typed(column: Column) -> ColumnElement:
    # INSERT ... SELECT takes its types from the SELECT list: state each one.
    return cast(bindparam(column.key, type_=column.type), column.type)


def _all_in_one(single: bool) -> rawsql.Statement:
    """PostgreSQL: the burn and the three INSERTs as one statement (data-modifying WITH
    queries), atomic on its own: one round trip where a transaction took six. Returns the
    number of responses stored: 0 when the burn changed nothing."""
    row = select(*(_typed(Response.__table__.c[name]) for name in RESPONSE_COLUMNS))
    if single:
        burned = BURN.where(burn_where(SurveyCode.id == bindparam("code_id"))).returning(SurveyCode.id).cte("burned")
        row = row.where(exists(select(burned.c.id)))
    response = insert(Response).from_select(RESPONSE_COLUMNS, row).returning(Response.id).cte("response")
    given = func.unnest(bindparam("items", type_=ARRAY(String())), bindparam("values", type_=ARRAY(SmallInteger())))
    given = given.table_valued("item", "value").render_derived(name="given")
    answers = insert(Answer).from_select(
        ["response_id", "item", "value"],
        select(response.c.id, given.c.item, given.c.value).select_from(response).join(given, true()),
    ).cte("answers")
    comment_row = select(cast(bindparam("comment_id"), String()), bindparam("text", type_=Text()),
                         *(_typed(Comment.__table__.c[name]) for name in COMMENT_COLUMNS))
    comment = insert(Comment).from_select(
        ["id", "text", *COMMENT_COLUMNS],
        comment_row.select_from(response).where(bindparam("text", type_=Text()) != ""),
    ).cte("comment")
    return rawsql.Statement(select(func.count()).select_from(response).add_cte(answers, comment))


STORE_SINGLE_POSTGRESQL = _all_in_one(single=True)
STORE_COUNTER_POSTGRESQL = _all_in_one(single=False)
