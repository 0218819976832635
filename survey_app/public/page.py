"""The survey page. A step whose own questions are still unanswered depends only on the
questionnaire version, the language, the step, whether the code names a procedure and
whether it is shown on a kiosk, except for a few strings (unit, procedure, CSRF token, form
action, the page's own path, the other steps' answers as hidden fields): it is rendered once
per process with markers in their place, and each request only splices its strings in. So
are the first step and every step a citizen moves on to. A step shown with its own answers
(going back) or with errors is rendered in full."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Response, render_template, request
from markupsafe import Markup, escape

from questionnaires import Questionnaire

from ..i18n import current_lang, t
from .steps import all_fields, steps

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


_skeletons: dict[tuple[str, str, str, bool, str, bool, int], Skeleton] = {}


def survey_page(q: Questionnaire, *, unit_name: str, procedure_name: str | None, token: str, action: str,
                values: dict[str, str] | None = None, errors: dict[str, tuple[str, str]] | None = None,
                step: int = 0, status: int = 200, kiosk: bool = False) -> Response:
    """Step ``step`` of the form for one code; with ``values`` or ``errors``, the answers so far
    (the other steps' as hidden fields) and the messages. ``kiosk``: on a counter tablet (it
    starts again for the next person when left alone)."""
    values = values or {}
    order = steps(q)
    step = min(max(step, 0), len(order) - 1)
    shown = order[step].fields
    strings = {**_strings(unit_name, procedure_name, token, action, request.path),
               "carried": _carried(q, values, shown)}

    def context(values: dict[str, str]) -> dict[str, object]:  # only when rendering, not from a copy
        return {"q": q, "values": values, "errors": errors or {}, "procedure_name": None, "kiosk": kiosk,
                **step_context(q, step), "question_names": _names(q)}

    if errors or any(values.get(name) for name in shown):
        return Response(render_template(TEMPLATE, **{**context(values), **strings}), status, mimetype="text/html")
    key = _key(q, current_lang(), procedure_name, request.script_root, kiosk, step)
    skeleton = _skeletons.get(key)
    if skeleton is None:
        skeleton = _skeletons[key] = Skeleton.render(TEMPLATE, **{**context({}), **dict.fromkeys(strings, _SLOT)})
    return Response(skeleton.fill(**strings), status, mimetype="text/html")


def _carried(q: Questionnaire, values: dict[str, str], shown: tuple[str, ...]) -> Markup:
    """The other steps' answers as hidden fields: how they travel with the form."""
    return Markup("".join(f'<input type="hidden" name="{escape(name)}" value="{escape(values[name])}">\n'
                          for name in all_fields(q) if name not in shown and values.get(name)))


def step_context(q: Questionnaire, step: int) -> dict[str, object]:
    """What the template needs to show step ``step`` (clamped to the steps there are)."""
    order = steps(q)
    step = min(max(step, 0), len(order) - 1)
    return {"step": order[step], "step_index": step, "step_count": len(order), "all_fields": all_fields(q),
            "intro": promised(q.intro[current_lang()], q.minutes, current_lang())}


_DURATION = {"vi": re.compile(r"khoảng \d+ phút"), "en": re.compile(r"about (\d+|one|two|three|four|five) minutes?")}


def promised(intro: str, minutes: int, lang: str) -> str:
    """The questionnaire's introduction with the one time promise sipas prints everywhere:
    a duration the (immutable) text states is replaced by the computed one, and said
    after it when the text states none."""
    words = f"khoảng {minutes} phút" if lang == "vi" else f"about {minutes} minute{'s' if minutes != 1 else ''}"
    if _DURATION[lang].search(intro):
        return _DURATION[lang].sub(words, intro, count=1)
    return f"{intro} {words[0].upper()}{words[1:]}."


def _names(q: Questionnaire) -> dict[str, str]:
    """Each question's words, for the error summary ("Nhìn chung, ...: chọn một mức")."""
    lang = current_lang()
    names = {item.code: item.text[lang] for item in q.rated_questions}
    names.update({c.code: c.text[lang] for c in q.choice_questions})
    if q.comment:
        names["comment"] = q.comment.text[lang]
        names["case_kind"] = t("case_question")
    return names


def _key(q: Questionnaire, lang: str, procedure_name: str | None, root: str, kiosk: bool,
         step: int) -> tuple[str, str, str, bool, str, bool, int]:
    return (q.key, q.sha256, lang, bool(procedure_name), root, kiosk, step)


def _strings(unit_name: str, procedure_name: str | None, token: str, action: str, here: str) -> dict[str, str]:
    strings = {"unit_name": unit_name, "token": token, "action": action, "here": here}
    if procedure_name:
        strings["procedure_name"] = procedure_name
    return strings
