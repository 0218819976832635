"""The survey in steps: one screen each, no JavaScript, no cookie.

A step shows some of the questions; the answers of the other steps travel in the page as
hidden fields, so moving on or back is a POST of the same form and nothing about the code is
kept between requests but what the person's own page holds. The general question (the SIPAS
headline, the one required answer) comes first; then one step per element (an element asked
under a condition shows its condition with it); then the expectations; then the questions
about the person and the comment (and whether it asks for an answer: a feedback case).
Submitting from the last step — or posting every answer at once, as the one-page form did —
validates and stores all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from questionnaires import Questionnaire


@dataclass(frozen=True)
class Step:
    key: str  # "general", an element's code, "expectations" or "more"
    fields: tuple[str, ...]  # the form fields it shows


def steps(q: Questionnaire) -> tuple[Step, ...]:
    """The questionnaire's steps, in order."""
    out: list[Step] = []
    gates = {code for element in q.elements for code in element.criteria[0].asked_if}
    first = ([q.general.code] if q.general else []) + [c.code for c in q.conditions if c.code not in gates]
    if first:
        out.append(Step("general", tuple(first)))
    for element in q.elements:
        gate = tuple(c.code for c in q.conditions if c.code in element.criteria[0].asked_if)
        out.append(Step(element.code, gate + tuple(c.code for c in element.criteria)))
    if q.expectations:
        out.append(Step("expectations", tuple(e.code for e in q.expectations)))
    more = [d.code for d in q.demographics] + (["comment", "case_kind"] if q.comment else [])
    if more:
        out.append(Step("more", tuple(more)))
    return tuple(out)


def all_fields(q: Questionnaire) -> tuple[str, ...]:
    return tuple(field for step in steps(q) for field in step.fields)


def step_of(q: Questionnaire, field: str) -> int:
    """The index of the step that shows ``field`` (the first step for an unknown one)."""
    return next((i for i, step in enumerate(steps(q)) if field in step.fields), 0)
