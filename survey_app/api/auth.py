"""Bearer-key authentication and the JSON error shape of the API.

Errors are ``{"error": {"status": 400, "message": "...", "field": "unit"}}``: ``field`` names
the request field to correct, or is null. Messages are Vietnamese with English in brackets.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, jsonify, request
from werkzeug.exceptions import HTTPException

from ..models import ApiKey
from ..services import apikeys

REALM = 'Bearer realm="sipas"'


class ApiError(Exception):
    """Raised in a view; answered as JSON with ``status``."""

    def __init__(self, status: int, message: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None, state: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.state = status, message, field, state
        self.headers = headers or {}


def error_response(status: int, message: str, *, field: str | None = None,
                   headers: dict[str, str] | None = None, state: str | None = None):
    """``{"error": {"status", "message", "field"}}``, plus ``"state"`` where a conflict names the
    state of what it conflicts with (a dossier's code: "answered")."""
    body: dict[str, object] = {"status": status, "message": message, "field": field}
    if state is not None:
        body["state"] = state
    response = jsonify(error=body)
    response.status_code = status
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def handle_api_error(exc: ApiError):
    return error_response(exc.status, exc.message, field=exc.field, headers=exc.headers, state=exc.state)


_HTTP_MESSAGES = {
    400: "Yêu cầu không hợp lệ (bad request).",
    404: "Không tìm thấy (not found).",
    405: "Phương thức không được hỗ trợ cho địa chỉ này (method not allowed).",
    413: "Nội dung gửi quá lớn (request body too large).",
    415: "Gửi nội dung JSON với Content-Type: application/json (send JSON).",
}


def handle_http_error(exc: HTTPException):
    status = exc.code or 500
    headers = {"Allow": exc.response.headers["Allow"]} if exc.response is not None and "Allow" in (
        exc.response.headers) else None
    return error_response(status, _HTTP_MESSAGES.get(status, exc.name), headers=headers)


def bearer_token() -> str | None:
    """The token of ``Authorization: Bearer <token>``; None when there is no such header."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def unauthorized(presented: bool) -> ApiError:
    if presented:
        return ApiError(401, "Khóa API sai, đã bị thu hồi hoặc không còn hiệu lực: kiểm tra khóa hoặc xin khóa mới "
                             "từ quản trị viên (invalid or revoked API key).",
                        headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
    return ApiError(401, "Cần khóa API trong tiêu đề Authorization: Bearer <khóa> "
                         "(send the API key as Authorization: Bearer <key>).",
                    headers={"WWW-Authenticate": REALM})


def current_key(scope: str) -> ApiKey:
    """The request's key: ApiError 401 without a valid key, 403 without ``scope``."""
    token = bearer_token()
    key = apikeys.authenticate(token) if token else None
    if key is None:
        raise unauthorized(presented="Authorization" in request.headers)
    if not apikeys.has_scope(key, scope):
        raise ApiError(403, f"Khóa này không có quyền '{scope}': xin quản trị viên cấp khóa có quyền đó "
                            f"(the key lacks the scope '{scope}').")
    g.api_key = key
    return key


def key_required(scope: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            current_key(scope)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def actor(key: ApiKey) -> str:
    return f"apikey:{key.prefix}"
