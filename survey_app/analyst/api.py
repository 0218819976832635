"""``GET /api/v1/indices``: the JSON of ``sipas analyze --db`` for the same options.

Query parameters are named like the command's options: ``by=unit,procedure``,
``period=quarter``, ``from``, ``to``, ``unit`` (with the units below it), ``questionnaire``,
``ci_method``, ``confidence``, ``bootstrap``, ``seed``, ``small_n``, ``max_width``.
A logged-in analyst or admin, or an API key with scope ``indices:read`` (a key bound to a
unit reads that unit and the units below it only).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from flask import Blueprint, Response, current_app, request
from flask_login import current_user
from sqlalchemy import func, select

import analysis
import questionnaires
from analysis.cell_tallies import CELL_COLUMNS, analyze_cells
from analysis.intervals import CI_METHODS

from ..api.auth import REALM, ApiError, bearer_token, handle_api_error
from ..extensions import csrf, db
from ..models import QuestionnaireVersion, Role, Unit
from ..models import Response as StoredResponse
from ..params import parse_day
from ..services import apikeys, cell_store, dataset, exports, successions
from . import data as D
from . import filters as F

bp = Blueprint("indices_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
SCOPE = "indices:read"
BY_COLUMNS = ("unit", "procedure", "channel", "respondent_type", "gender", "age_group", "ethnicity", "education",
              "occupation", "residence", "same_day", "flagged")


bp.register_error_handler(ApiError, handle_api_error)


def _reader_scope() -> set[int] | None:
    """Unit ids the caller may read (None: all). Raises ApiError 401/403."""
    token = bearer_token()
    if token is not None:
        key = apikeys.authenticate(token)
        if key is None:
            raise ApiError(401, "Khóa API sai hoặc đã bị thu hồi (invalid or revoked API key).",
                           headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
        if not apikeys.has_scope(key, SCOPE):
            raise ApiError(403, f"Khóa API cần quyền {SCOPE} (the key lacks scope {SCOPE}).")
        return apikeys.unit_ids(key) if key.unit_id is not None else None
    if current_user.is_authenticated and current_user.role in (Role.ANALYST, Role.ADMIN):
        return None
    if current_user.is_authenticated:
        raise ApiError(403, "Tài khoản này không được xem chỉ số (this account may not read indices).")
    raise ApiError(401, "Cần đăng nhập hoặc khóa API (authentication required).",
                   headers={"WWW-Authenticate": REALM})


def _date(name: str) -> str | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return parse_day(raw).isoformat()
    except ValueError as exc:
        raise ApiError(400, f"'{name}': {exc}", field=name) from None


def _number(name: str, kind: type, default: Any, low: float, high: float) -> Any:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ApiError(400, f"'{name}' phải là một số (must be a number).", field=name) from None
    if not low <= value <= high:
        raise ApiError(400, f"'{name}' phải từ {low:g} đến {high:g} (out of range).", field=name)
    return value


def options() -> dict[str, Any]:
    """The analysis options from the query string, validated."""
    by = tuple(b.strip() for b in (request.args.get("by") or "").split(",") if b.strip())
    unknown = [b for b in by if b not in BY_COLUMNS]
    if unknown:
        raise ApiError(400, f"Không nhóm được theo {', '.join(unknown)} (by: one of {', '.join(BY_COLUMNS)}).",
                       field="by")
    period = request.args.get("period") or None
    if period is not None and period not in analysis.PERIOD_KINDS:
        raise ApiError(400, f"period: một trong {', '.join(analysis.PERIOD_KINDS)}.", field="period")
    method = request.args.get("ci_method") or "wilson"
    if method not in CI_METHODS:
        raise ApiError(400, f"ci_method: một trong {', '.join(CI_METHODS)}.", field="ci_method")
    return {
        "by": by, "period": period, "date_from": _date("from"), "date_to": _date("to"), "ci_method": method,
        "confidence": _number("confidence", float, 0.95, 0.5, 0.999),
        "bootstrap": _number("bootstrap", int, None, 1, 10_000), "seed": _number("seed", int, None, 0, 2**31),
        "small_n": _number("small_n", int, 30, 0, 10**6), "max_width": _number("max_width", float, 20.0, 0.1, 100),
    }


# Resamples × responses a web request may bootstrap (a few seconds here); the command line
# has no such bound.
BOOTSTRAP_BUDGET = 2_000_000


def _units(scope: set[int] | None) -> set[str] | None:
    unit = (request.args.get("unit") or "").strip()
    allowed = None if scope is None else set(db.session.scalars(select(Unit.code).where(Unit.id.in_(scope))))
    if unit:
        if db.session.scalar(select(Unit.id).filter_by(code=unit)) is None:
            raise ApiError(400, f"Không có đơn vị '{unit[:40]}' (unknown unit).", field="unit")
        codes = F.unit_codes(unit)
        if allowed is not None and not codes <= allowed:
            raise ApiError(403, "Khóa API không được đọc đơn vị này (the key may not read this unit).", field="unit")
        return codes
    return allowed


def document(frame: pd.DataFrame, questionnaire: str | None, opts: dict[str, Any]) -> dict[str, Any]:
    """What ``sipas analyze --format json`` prints for these rows and options."""
    q = analysis.resolve_questionnaire(questionnaire or exports.newest_key(frame))
    return analysis.analyze(frame, q, **opts).to_json()


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, allow_nan=False)


def _from_cells(key: str, opts: dict[str, Any]) -> bool:
    """Whether the cell tallies answer (the same document, without loading responses):
    grouped by what cells are kept by, no bootstrap, and analysed as the questionnaire's
    newest version, which must then be the newest that has responses (as from the rows)."""
    if "@" in key or opts["bootstrap"] or not set(opts["by"]) <= set(CELL_COLUMNS):
        return False
    q = questionnaires.load(key or "sipas-2023")
    answered = select(StoredResponse.id).where(
        StoredResponse.questionnaire_version_id == QuestionnaireVersion.id).exists()
    newest = db.session.scalar(select(func.max(QuestionnaireVersion.version))
                               .where(QuestionnaireVersion.questionnaire_id == q.id, answered))
    return newest == q.version


def _cells_document(qid: str, codes: set[str] | None, opts: dict[str, Any],
                    successors: dict[str, str]) -> dict[str, Any]:
    window = tuple(parse_day(opts[k]) if opts[k] else None for k in ("date_from", "date_to"))
    found = cell_store.cells_for(db.engine, qid, window=window)
    if codes is not None:
        found = found.select(found.cells["unit"].isin(codes).to_numpy())
    found = D.as_successors(found, successors)
    options = {k: v for k, v in opts.items() if k not in ("bootstrap", "seed")}
    try:
        return analyze_cells(found, questionnaires.load(qid), **{**options, "date_from": window[0],
                                                                 "date_to": window[1]}).to_json()
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


@bp.get("/indices")
def indices():
    scope = _reader_scope()
    opts = options()
    key = request.args.get("questionnaire") or ""
    qid = key.partition("@")[0] or "sipas-2023"
    if qid not in F.questionnaire_ids():
        raise ApiError(400, f"Không có phiếu '{qid[:40]}' (unknown questionnaire).", field="questionnaire")
    codes = _units(scope)
    successors = D.successors_for(opts["by"])
    cache_key = ("api", key, tuple(sorted(codes)) if codes is not None else None, json.dumps(opts, default=str),
                 successions.version() if successors else None)

    def compute(frame: pd.DataFrame) -> str:
        rows = frame if codes is None else frame[frame["unit"].isin(codes)]
        if opts["bootstrap"] and opts["bootstrap"] * len(rows) > BOOTSTRAP_BUDGET:
            raise ApiError(400, f"Bootstrap {opts['bootstrap']} lần trên {len(rows)} phiếu quá lớn cho một yêu cầu web "
                                f"(tối đa {BOOTSTRAP_BUDGET:,} lượt dòng): giảm bootstrap, thu hẹp bộ lọc, hoặc dùng "
                                "`sipas analyze --bootstrap` (bootstrap × responses over the web request's budget).",
                           field="bootstrap")
        try:
            doc = document(D.as_successors(rows, successors), key or None, opts)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        return _json(doc)

    if _from_cells(key, opts):
        body = dataset.cache.value(db.engine, qid, cache_key,
                                   lambda: _json(_cells_document(qid, codes, opts, successors)))
    else:
        body = dataset.cache.result(db.engine, qid, cache_key, compute)
    current_app.logger.debug("indices served")
    return Response(body, mimetype="application/json", headers={"Cache-Control": "no-store"})
