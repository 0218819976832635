"""Frozen objects that describe one questionnaire version.

Everything the app, the exports and the analysis know about a questionnaire comes from
these objects; nobody re-types a criterion list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

LANGUAGES = ("vi", "en")


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Level:
    """One answer level of a scale: its stored value and its label per language."""

    value: int
    label: Mapping[str, str]


@dataclass(frozen=True)
class Scale:
    """An ordered answer scale 1..k; ``satisfied`` holds the values counted as satisfied."""

    code: str
    levels: tuple[Level, ...]
    satisfied: frozenset[int]

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(level.value for level in self.levels)

    @property
    def max(self) -> int:
        return self.levels[-1].value

    def label(self, value: int, lang: str = "vi") -> str:
        for level in self.levels:
            if level.value == value:
                return level.label[lang]
        raise KeyError(value)


@dataclass(frozen=True)
class Option:
    value: str
    label: Mapping[str, str]


@dataclass(frozen=True)
class Choice:
    """A single-choice question with coded options (gating questions, demographics)."""

    code: str
    text: Mapping[str, str]
    options: tuple[Option, ...]

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)


@dataclass(frozen=True)
class Criterion:
    """A rated criterion. ``asked_if`` maps a gating question's code to the option value
    that makes the criterion applicable; otherwise it is always asked."""

    code: str
    element: str
    text: Mapping[str, str]
    scale: Scale
    asked_if: Mapping[str, str] = field(default_factory=lambda: _frozen({}))


@dataclass(frozen=True)
class Element:
    code: str
    title: Mapping[str, str]
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Question:
    """A rated question outside the elements (the general question HL, expectation items)."""

    code: str
    text: Mapping[str, str]
    scale: Scale


@dataclass(frozen=True)
class Expectations:
    prompt: Mapping[str, str]
    scale: Scale
    items: tuple[Question, ...]


@dataclass(frozen=True)
class Comment:
    text: Mapping[str, str]
    max_length: int


@dataclass(frozen=True)
class Questionnaire:
    """One published questionnaire version, loaded from its definition file."""

    id: str
    version: int
    title: Mapping[str, str]
    intro: Mapping[str, str]
    scales: tuple[Scale, ...]
    conditions: tuple[Choice, ...]
    elements: tuple[Element, ...]
    general: Question | None
    expectations: tuple[Question, ...]
    expectation_prompt: Mapping[str, str] | None
    demographics: tuple[Choice, ...]
    comment: Comment | None
    source: str
    content: str
    sha256: str

    @property
    def key(self) -> str:
        """``id@version``, the form used on the command line and in the database."""
        return f"{self.id}@{self.version}"

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for element in self.elements for c in element.criteria)

    def criterion(self, code: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.code == code:
                return criterion
        raise KeyError(code)

    @property
    def rated_questions(self) -> tuple[Criterion | Question, ...]:
        """Every question answered on a numeric scale, in questionnaire order:
        the criteria, the general question, then the expectation items."""
        general = (self.general,) if self.general is not None else ()
        return (*self.criteria, *general, *self.expectations)

    @property
    def answer_columns(self) -> tuple[str, ...]:
        """The export's answer columns, in questionnaire order."""
        return tuple(q.code for q in self.rated_questions)

    @property
    def minutes(self) -> int:
        """The time promised to citizens everywhere (slips, posters, the form), in whole
        minutes: 5 s a rated question or a choice, 20 s for the optional comment, rounded up
        (a scripted citizen in Chromium needs less: docs/benchmarks.md)."""
        seconds = 5 * (len(self.rated_questions) + len(self.choice_questions)) + (20 if self.comment else 0)
        return max(1, -(-seconds // 60))

    @property
    def choice_questions(self) -> tuple[Choice, ...]:
        """Gating questions then demographics: the coded single-choice fields."""
        return (*self.conditions, *self.demographics)
