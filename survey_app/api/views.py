"""The JSON API for one-stop-shop software (hệ thống một cửa điện tử), under /api/v1.

Authenticated with ``Authorization: Bearer <key>`` only, never with cookies (so no CSRF
token); the QR images also accept a logged-in staff or admin session, for the staff pages.
The dossier number is never stored, logged or echoed: only a keyed hash of it is kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from ..access import may_act_on
from ..extensions import csrf, db
from ..models import CodeKind, Procedure, Role, SurveyCode, Unit
from ..printing import qr_png, qr_svg
from ..services import apikeys, audit, codes
from .auth import ApiError, actor, current_key, handle_api_error, handle_http_error, key_required, unauthorized

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
bp.register_error_handler(ApiError, handle_api_error)
bp.register_error_handler(HTTPException, handle_http_error)

FIELDS = ("unit", "procedure", "questionnaire", "dossier", "kind", "competent_unit")
MAX_DOSSIER = 100


@bp.before_request
def _small_bodies() -> None:
    # A request here is a few hundred bytes of JSON: refuse big bodies before reading them.
    request.max_content_length = current_app.config["SIPAS_MAX_BODY_BYTES"]


def _json_object() -> dict[str, Any]:
    if not request.is_json:
        raise ApiError(415, "Gửi nội dung JSON với tiêu đề Content-Type: application/json "
                            "(send a JSON body with Content-Type: application/json).")
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "Nội dung phải là JSON mã hóa UTF-8 (the body must be UTF-8 JSON).") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"JSON không hợp lệ ở dòng {exc.lineno}, cột {exc.colno}: sửa lại cú pháp "
                            f"(invalid JSON at line {exc.lineno}, column {exc.colno}).") from None
    except RecursionError:  # thousands of nested brackets: no real request looks like that
        raise ApiError(400, "JSON lồng nhau quá sâu (JSON nested too deeply).") from None
    except ValueError:  # a number of thousands of digits, which Python refuses to convert
        raise ApiError(400, "JSON có số quá dài: gửi mã và tên dưới dạng chuỗi ngắn "
                            "(a number in the JSON is too long).") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Nội dung phải là một đối tượng JSON, ví dụ {\"unit\": \"...\"} "
                            "(the body must be a JSON object).")
    for name in body:
        if name not in FIELDS:
            raise ApiError(400, f"Trường '{str(name)[:40]}' không được hỗ trợ; dùng {', '.join(FIELDS)} "
                                f"(unknown field).", field=str(name)[:40])
    return body


def _text(body: dict[str, Any], name: str, *, max_length: int = 64) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"Trường '{name}' phải là một chuỗi (field '{name}' must be a string).", field=name)
    if any("\ud800" <= ch <= "\udfff" or ch == "\x00" for ch in value):
        raise ApiError(400, f"Trường '{name}' chứa ký tự không hợp lệ (invalid character).", field=name)
    value = value.strip()
    if len(value) > max_length:
        raise ApiError(400, f"Trường '{name}' dài quá {max_length} ký tự (longer than {max_length}).", field=name)
    return value or None


def _unit(body: dict[str, Any], key) -> Unit:
    code = _text(body, "unit", max_length=32)
    scope = apikeys.unit_ids(key)
    if code is None:
        active = list(db.session.scalars(select(Unit).where(Unit.id.in_(scope), Unit.active)))
        if len(active) != 1:
            raise ApiError(400, "Ghi mã đơn vị trong trường 'unit': khóa này dùng được cho nhiều đơn vị "
                                "(field 'unit' is required for this key).", field="unit")
        return active[0]
    unit = db.session.scalar(select(Unit).filter_by(code=code))
    if unit is None:
        raise ApiError(400, f"Không có đơn vị mã '{code}': kiểm tra mã đơn vị (unknown unit).", field="unit")
    if unit.id not in scope:
        raise ApiError(403, f"Khóa này không được phát mã cho đơn vị '{code}' "
                            "(the key may not issue codes for this unit).", field="unit")
    if not unit.active:
        raise ApiError(400, f"Đơn vị '{code}' đã ngừng hoạt động: chọn đơn vị khác "
                            "(the unit is inactive).", field="unit")
    return unit


def _competent(body: dict[str, Any]) -> Unit | None:
    """The agency competent to decide the dossier, when it is not the receiving unit: any
    active unit of the catalogue (a centre receives for agencies outside the key's units)."""
    code = _text(body, "competent_unit")
    if not code:
        return None
    unit = db.session.scalar(select(Unit).filter_by(code=code))
    if unit is None or not unit.active:
        raise ApiError(400, f"Không có đơn vị đang hoạt động mã '{code}' để ghi là cơ quan có thẩm quyền giải quyết "
                            "(unknown or inactive competent unit).", field="competent_unit")
    return unit


def _procedure(body: dict[str, Any]) -> Procedure | None:
    code = _text(body, "procedure")
    if code is None:
        return None
    procedure = db.session.scalar(select(Procedure).filter_by(code=code))
    if procedure is None:
        raise ApiError(400, f"Không có thủ tục mã '{code}': dùng mã trong danh mục thủ tục "
                            "(unknown procedure).", field="procedure")
    if not procedure.active:
        raise ApiError(400, f"Thủ tục '{code}' đã ngừng sử dụng (the procedure is inactive).", field="procedure")
    return procedure


def _kind(body: dict[str, Any]) -> str:
    kind = _text(body, "kind", max_length=16) or CodeKind.SINGLE.value
    if kind not in {k.value for k in CodeKind}:
        raise ApiError(400, "Trường 'kind' là 'single' (mỗi hồ sơ một mã) hoặc 'counter' (áp phích tại quầy) "
                            "(kind: single or counter).", field="kind")
    return kind


def _dossier(body: dict[str, Any], kind: str) -> str | None:
    # Messages never repeat the number: it identifies a person's case.
    value = body.get("dossier")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, "Trường 'dossier' (mã số hồ sơ) phải là một chuỗi (must be a string).", field="dossier")
    value = value.strip()
    if not value or len(value) > MAX_DOSSIER or not value.isprintable():
        raise ApiError(400, f"Mã số hồ sơ cần từ 1 đến {MAX_DOSSIER} ký tự in được "
                            f"(dossier: 1 to {MAX_DOSSIER} printable characters).", field="dossier")
    if kind != CodeKind.SINGLE:
        raise ApiError(400, "Mã số hồ sơ chỉ dùng với mã dùng một lần (kind 'single') "
                            "(a dossier goes with a single-use code).", field="dossier")
    return value


def _existing_for(unit: Unit, dossier: str | None) -> int | None:
    if dossier is None:
        return None
    return db.session.scalar(select(SurveyCode.id).filter_by(dossier_hash=codes.dossier_hash(unit.id, dossier)))


@bp.post("/codes")
@key_required(apikeys.SCOPE_ISSUE)
def issue_code():
    """Issue one code: 201 with the code, its URL, expiry and QR SVG; 200 for a dossier repeat."""
    key = g.api_key
    body = _json_object()
    unit = _unit(body, key)
    procedure = _procedure(body)
    competent = _competent(body)
    questionnaire = _text(body, "questionnaire") or "sipas-2023"
    kind = _kind(body)
    dossier = _dossier(body, kind)
    for attempt in (1, 2):
        existing = _existing_for(unit, dossier)
        try:
            _, [item] = codes.issue(unit=unit, procedure=procedure, questionnaire=questionnaire, kind=kind,
                                    count=1, actor=actor(key), source="api", dossier=dossier, competent=competent)
        except codes.PublicUrlError as exc:
            db.session.rollback()
            raise ApiError(503, str(exc)) from None
        except codes.CodeError as exc:  # this dossier's code was answered: one dossier, one answer
            db.session.rollback()
            raise ApiError(409, "Hồ sơ này đã được đánh giá: mỗi hồ sơ chỉ nhận một câu trả lời, không cấp mã mới "
                                "(this dossier's code was already answered).", field="dossier",
                           state=exc.problem.value) from None
        except (LookupError, ValueError):
            db.session.rollback()
            raise ApiError(400, f"Không có phiếu khảo sát '{questionnaire}': dùng ví dụ 'sipas-2023' hoặc "
                                "'sipas-2023@1' (unknown questionnaire).", field="questionnaire") from None
        except IntegrityError:
            # A simultaneous request for the same dossier stored its code first: return that one.
            db.session.rollback()
            if attempt == 2:
                raise ApiError(503, "Hệ thống đang bận: gửi lại yêu cầu sau vài giây (busy; retry).") from None
            continue
        break
    repeat = existing is not None and item.id == existing
    if repeat:
        audit.record(actor(key), "codes.issue.repeat", unit.code, source="api")
        db.session.commit()
    payload = {**item.as_dict(), "qr_svg": qr_svg(item.url)}
    response = jsonify(payload)
    response.status_code = 200 if repeat else 201
    response.headers["Cache-Control"] = "no-store"
    return response


def _qr_target(code: str) -> str:
    """The URL for the QR image of ``code``, if the caller may see it (ApiError otherwise)."""
    allowed: Callable[[int], bool]
    if "Authorization" in request.headers:
        key = current_key(apikeys.SCOPE_ISSUE)

        def allowed(unit_id: int) -> bool:
            return apikeys.may_act_on(key, unit_id)
    elif current_user.is_authenticated:
        if current_user.role not in (Role.STAFF, Role.ADMIN):
            raise ApiError(403, "Tài khoản này không in mã (this account does not print codes).")

        def allowed(unit_id: int) -> bool:
            return may_act_on(current_user, unit_id)
    else:
        raise unauthorized(presented=False)
    try:
        record = codes.find(code)
        text = codes.canonical(code)
    except codes.CodeError:
        raise ApiError(404, "Không có mã này: kiểm tra lại mã (unknown code).") from None
    if not allowed(record.unit_id):
        raise ApiError(403, "Mã này thuộc đơn vị khác (the code belongs to another unit).")
    return codes.code_url(text)


def _image(data: str | bytes, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype, headers={
        "Cache-Control": "private, no-store", "Content-Disposition": f'inline; filename="{filename}"'})


@bp.get("/codes/<code>/qr.svg")
def code_qr_svg(code: str):
    return _image(qr_svg(_qr_target(code)), "image/svg+xml", "sipas-qr.svg")


@bp.get("/codes/<code>/qr.png")
def code_qr_png(code: str):
    return _image(qr_png(_qr_target(code)), "image/png", "sipas-qr.png")
