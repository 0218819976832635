"""Read and validate questionnaire definition files (TOML, standard library only)."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .model import (
    LANGUAGES,
    Choice,
    Comment,
    Criterion,
    Element,
    Level,
    Option,
    Question,
    Questionnaire,
    Scale,
    _frozen,
)

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Field names the response form and export use for other purposes.
_RESERVED = {
    "comment", "csrf_token", "lang", "website", "response_id", "questionnaire",
    "questionnaire_version", "unit", "procedure", "channel", "submitted_on", "same_day",
    "case_kind",
}


class QuestionnaireError(ValueError):
    """A definition file that cannot be used; the message names file, place and problem."""

    def __init__(self, source: str, place: str, problem: str) -> None:
        self.source, self.place, self.problem = source, place, problem
        where = f"{source}: {place}" if place else source
        super().__init__(f"{where}: {problem}")


class _Reader:
    """Validates one parsed file; every error goes through :meth:`fail`."""

    def __init__(self, source: str, data: dict[str, Any]) -> None:
        self.source = source
        self.data = data
        self.codes: dict[str, str] = {}  # code -> place that defined it

    def fail(self, place: str, problem: str) -> QuestionnaireError:
        return QuestionnaireError(self.source, place, problem)

    def table(self, value: Any, place: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(place, "must be a table")
        return value

    def tables(self, key: str, required: bool = True) -> list[dict[str, Any]]:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(f"[[{key}]]", "is missing")
            return []
        if not isinstance(value, list) or not value:
            raise self.fail(f"[[{key}]]", "must be a non-empty array of tables")
        return [self.table(item, f"{key}[{i}]") for i, item in enumerate(value)]

    def texts(self, table: dict[str, Any], place: str) -> Mapping[str, str]:
        texts: dict[str, str] = {}
        for lang in LANGUAGES:
            value = table.get(lang)
            if value is None:
                if lang == "vi":
                    raise self.fail(place, "Vietnamese text ('vi') is missing")
                continue
            if not isinstance(value, str) or not value.strip():
                raise self.fail(place, f"text '{lang}' must be a non-empty string")
            texts[lang] = value.strip()
        texts.setdefault("en", texts["vi"])
        return _frozen(texts)

    def code(self, table: dict[str, Any], place: str) -> str:
        code = table.get("code")
        if not isinstance(code, str) or not _CODE.match(code):
            raise self.fail(place, f"code {code!r} must be a letter followed by letters, digits or _")
        if code in _RESERVED:
            raise self.fail(place, f"code '{code}' is reserved")
        if code in self.codes:
            raise self.fail(place, f"duplicate code '{code}' (first defined at {self.codes[code]})")
        self.codes[code] = place
        return code

    def scale(self, table: dict[str, Any], place: str) -> Scale:
        code = table.get("code")
        if not isinstance(code, str) or not code:
            raise self.fail(place, "a scale needs a code")
        levels_raw = table.get("levels")
        if not isinstance(levels_raw, list) or len(levels_raw) < 2:
            raise self.fail(place, "a scale needs at least two levels")
        levels = []
        for i, raw in enumerate(levels_raw):
            level_place = f"{place}.levels[{i}]"
            raw = self.table(raw, level_place)
            value = raw.get("value")
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.fail(level_place, "value must be a whole number")
            levels.append(Level(value, self.texts(raw, level_place)))
        values = [level.value for level in levels]
        if values != list(range(1, len(levels) + 1)):
            raise self.fail(
                place, f"levels must be numbered 1..{len(levels)} in order without gaps; got {values}"
            )
        satisfied = table.get("satisfied")
        if (
            not isinstance(satisfied, list)
            or not satisfied
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in satisfied)
            or not set(satisfied) <= set(values)
        ):
            raise self.fail(place, f"satisfied must list values of the scale ({values})")
        return Scale(code, tuple(levels), frozenset(satisfied))

    def choice(self, table: dict[str, Any], place: str) -> Choice:
        code = self.code(table, place)
        options_raw = table.get("options")
        if not isinstance(options_raw, list) or len(options_raw) < 2:
            raise self.fail(place, "needs at least two options")
        options, seen = [], set()
        for i, raw in enumerate(options_raw):
            option_place = f"{place}.options[{i}]"
            raw = self.table(raw, option_place)
            value = raw.get("value")
            if not isinstance(value, str) or not value or len(value) > 32:
                raise self.fail(option_place, "value must be a short non-empty string")
            if value in seen:
                raise self.fail(option_place, f"duplicate option value '{value}'")
            seen.add(value)
            options.append(Option(value, self.texts(raw, option_place)))
        return Choice(code, self.texts(table, place), tuple(options))


def _build(source: str, data: dict[str, Any], content: str) -> Questionnaire:
    r = _Reader(source, data)
    qid = data.get("id")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise r.fail("id", "must be lower-case letters, digits and '-'")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise r.fail("version", "must be a whole number from 1 up")

    scales: dict[str, Scale] = {}
    for i, table in enumerate(r.tables("scales")):
        scale = r.scale(table, f"scales[{i}]")
        if scale.code in scales:
            raise r.fail(f"scales[{i}]", f"duplicate scale code '{scale.code}'")
        scales[scale.code] = scale

    def scale_of(table: dict[str, Any], place: str) -> Scale:
        name = table.get("scale")
        if not isinstance(name, str) or name not in scales:
            raise r.fail(place, f"unknown scale {name!r}; defined scales: {', '.join(scales)}")
        return scales[name]

    conditions = tuple(
        r.choice(t, f"conditions[{i}]") for i, t in enumerate(r.tables("conditions", False))
    )
    by_condition = {c.code: c for c in conditions}

    element_tables = r.tables("elements")
    element_codes = [r.code(t, f"elements[{i}]") for i, t in enumerate(element_tables)]
    members: dict[str, list[Criterion]] = {code: [] for code in element_codes}
    for i, table in enumerate(r.tables("criteria")):
        place = f"criteria[{i}]"
        code = r.code(table, place)
        place = f"{place} ({code})"
        element = table.get("element")
        if not isinstance(element, str) or element not in members:
            raise r.fail(place, f"unknown element {element!r}; elements: {', '.join(members)}")
        asked_if = table.get("asked_if", {})
        asked_if = r.table(asked_if, f"{place}.asked_if")
        for cond, value in asked_if.items():
            if cond not in by_condition:
                raise r.fail(f"{place}.asked_if", f"unknown condition '{cond}'")
            if value not in by_condition[cond].values:
                raise r.fail(f"{place}.asked_if", f"'{value}' is not an option of '{cond}'")
        members[element].append(
            Criterion(code, element, r.texts(table, place), scale_of(table, place), _frozen(asked_if))
        )
    elements = []
    for i, (code, table) in enumerate(zip(element_codes, element_tables, strict=True)):
        if not members[code]:
            raise r.fail(f"elements[{i}] ({code})", "has no criteria")
        elements.append(Element(code, r.texts(table, f"elements[{i}]"), tuple(members[code])))

    general = None
    if "general" in data:
        table = r.table(data["general"], "[general]")
        code = r.code(table, "[general]")
        general = Question(code, r.texts(table, "[general]"), scale_of(table, "[general]"))

    expectations: tuple[Question, ...] = ()
    prompt = None
    if "expectations" in data:
        table = r.table(data["expectations"], "[expectations]")
        scale = scale_of(table, "[expectations]")
        prompt = r.texts(table, "[expectations]")
        items = table.get("items")
        if not isinstance(items, list) or not items:
            raise r.fail("[expectations].items", "must list at least one item")
        questions = []
        for i, item in enumerate(items):
            place = f"expectations.items[{i}]"
            item = r.table(item, place)
            questions.append(Question(r.code(item, place), r.texts(item, place), scale))
        expectations = tuple(questions)

    demographics = tuple(
        r.choice(t, f"demographics[{i}]") for i, t in enumerate(r.tables("demographics", False))
    )

    comment = None
    if "comment" in data:
        table = r.table(data["comment"], "[comment]")
        max_length = table.get("max_length", 2000)
        if (
            not isinstance(max_length, int)
            or isinstance(max_length, bool)
            or not 1 <= max_length <= 10000
        ):
            raise r.fail("[comment].max_length", "must be a whole number from 1 to 10000")
        comment = Comment(r.texts(table, "[comment]"), max_length)

    title = r.texts(r.table(data.get("title"), "[title]"), "[title]")
    intro = _frozen({"vi": "", "en": ""})
    if "intro" in data:
        intro = r.texts(r.table(data["intro"], "[intro]"), "[intro]")
    return Questionnaire(
        id=qid, version=version, title=title, intro=intro, scales=tuple(scales.values()),
        conditions=conditions, elements=tuple(elements), general=general,
        expectations=expectations, expectation_prompt=prompt, demographics=demographics,
        comment=comment, source=source, content=content,
        sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
    )


def load_text(content: str, source: str = "<text>") -> Questionnaire:
    """Parse and validate a definition given as TOML text."""
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise QuestionnaireError(source, "", f"is not valid TOML ({exc})") from exc
    return _build(source, data, content)


def load_file(path: str | Path) -> Questionnaire:
    """Load one definition file; its directory and file name must match id and version."""
    path = Path(path)
    try:
        content = path.read_bytes().decode("utf-8-sig")  # Windows editors add a BOM
    except UnicodeDecodeError as exc:
        raise QuestionnaireError(str(path), "", f"is not UTF-8 text ({exc})") from exc
    except OSError as exc:
        raise QuestionnaireError(str(path), "", f"cannot be read ({exc.strerror})") from exc
    questionnaire = load_text(content, str(path))
    if path.parent.name != questionnaire.id or path.stem != str(questionnaire.version):
        raise QuestionnaireError(
            str(path), "id/version",
            f"'{questionnaire.key}' must live in {questionnaire.id}/{questionnaire.version}.toml",
        )
    return questionnaire


def _files(directory: Path) -> dict[tuple[str, int], Path]:
    found = {}
    for path in sorted(directory.glob("*/*.toml")):
        if path.stem.isdigit():
            found[(path.parent.name, int(path.stem))] = path
    return found


@cache
def _cached(path: str, mtime_ns: int) -> Questionnaire:
    return load_file(path)


def available(directory: str | Path | None = None) -> list[tuple[str, int]]:
    """The ``(id, version)`` pairs that have a definition file, sorted."""
    return sorted(_files(Path(directory) if directory else DEFINITIONS_DIR))


def parse_key(key: str) -> tuple[str, int | None]:
    """Split ``"sipas-2023@1"`` into ``("sipas-2023", 1)``; no ``@`` gives version None."""
    qid, _, version = key.partition("@")
    if version and not version.isdigit():
        raise ValueError(f"questionnaire: version in {key!r} must be a whole number")
    return qid, int(version) if version else None


def load(
    qid: str, version: int | None = None, *, directory: str | Path | None = None
) -> Questionnaire:
    """Load questionnaire ``qid`` at ``version`` (default: the newest one).

    ``qid`` may also be written ``"id@version"``.
    """
    if version is None and "@" in qid:
        qid, version = parse_key(qid)
    files = _files(Path(directory) if directory else DEFINITIONS_DIR)
    versions = sorted(v for (i, v) in files if i == qid)
    if not versions:
        known = sorted({i for (i, _) in files})
        raise LookupError(f"unknown questionnaire '{qid}'; available: {', '.join(known)}")
    if version is None:
        version = versions[-1]
    if (qid, version) not in files:
        raise LookupError(f"questionnaire '{qid}' has no version {version}; versions: {versions}")
    path = files[(qid, version)]
    return _cached(str(path), path.stat().st_mtime_ns)
