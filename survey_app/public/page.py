"""The survey page. A fresh form depends only on the questionnaire version, the language and
whether the code names a procedure, except for a few strings (unit, procedure, CSRF token,
form action, the page's own path): it is rendered once per process with markers in their
place, and each request only escapes and splices its strings in. A refused submission,
which shows answers and errors, is rendered in full."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Response, render_template, request
from markupsafe import escape

from questionnaires import Questionnaire

from ..i18n import current_lang

TEMPLATE = "public/survey.html"
# Markers survive HTML escaping unchanged (letters, digits and dashes only).
_MARKER = "sipas-slot-{}-x7q"
_MARKERS = re.compile(r"sipas-slot-([a-z_]+)-x7q")
_SLOT = object()  # "a marker goes here" in Skeleton.render's context


@dataclass(frozen=True)
class Skeleton:
    """A rendered page cut at its markers: ``parts[i]``, value of ``slots[i]``, ``parts[i + 1]`` ..."""

    parts: tuple[bytes, ...]
    slots: tuple[str, ...]

    @classmethod
    def render(cls, template: str, **context: object) -> Skeleton:
        """Render ``template`` with each string slot in ``context`` given as a marker."""
        slots = [name for name, value in context.items() if value is _SLOT]
        html = render_template(template, **{name: _MARKER.format(name) if value is _SLOT else value
                                            for name, value in context.items()})
        pieces = _MARKERS.split(html)
        found = pieces[1::2]
        if sorted(set(found)) != sorted(slots):
            raise RuntimeError(f"{template}: the slots {slots} must each appear as a plain variable, found {found}")
        return cls(tuple(piece.encode() for piece in pieces[0::2]), tuple(found))

    def fill(self, **values: str) -> bytes:
        out = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            out += (str(escape(values[slot])).encode(), part)
        return b"".join(out)


_skeletons: dict[tuple[str, str, str, bool, str], Skeleton] = {}


def survey_page(q: Questionnaire, *, unit_name: str, procedure_name: str | None, token: str, action: str,
                values: dict[str, str] | None = None, errors: dict[str, tuple[str, str]] | None = None,
                status: int = 200) -> Response:
    """The form for one code; with ``values`` or ``errors``, as refused (kept answers, messages)."""
    strings = _strings(unit_name, procedure_name, token, action, request.path)
    context = {"q": q, "values": values or {}, "errors": errors or {}, "procedure_name": None}
    if values or errors:
        return Response(render_template(TEMPLATE, **{**context, **strings}), status, mimetype="text/html")
    key = _key(q, current_lang(), procedure_name, request.script_root)
    skeleton = _skeletons.get(key)
    if skeleton is None:
        skeleton = _skeletons[key] = Skeleton.render(TEMPLATE, **{**context, **dict.fromkeys(strings, _SLOT)})
    return Response(skeleton.fill(**strings), status, mimetype="text/html")


def _key(q: Questionnaire, lang: str, procedure_name: str | None, root: str) -> tuple[str, str, str, bool, str]:
    return (q.key, q.sha256, lang, bool(procedure_name), root)


def _strings(unit_name: str, procedure_name: str | None, token: str, action: str, here: str) -> dict[str, str]:
    strings = {"unit_name": unit_name, "token": token, "action": action, "here": here}
    if procedure_name:
        strings["procedure_name"] = procedure_name
    return strings
