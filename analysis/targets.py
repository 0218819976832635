"""Plan targets: the plan file (TOML), and the verdict of an estimate against a target (§4).

A department's annual plan sets targets in percent for the general index (HL, the SIPAS
headline), the composite ("overall"), each element and each criterion, for the department
and, where they differ, per unit; and a baseline period to measure change against.

Verdict (methodology §4): **met** if the CI's lower bound ≥ target; **not met** if the
CI's upper bound < target; **inconclusive** otherwise (the sample cannot tell). Machine
codes are ``"met"``, ``"not_met"`` and ``"inconclusive"``; ``None`` when there is no
estimate (nobody answered).

>>> verdict(ci=(81.2, 88.0), target=80), verdict(ci=(70.0, 79.9), target=80)
('met', 'not_met')
>>> verdict(ci=(75.0, 85.0), target=80)
'inconclusive'

Plan file format (every key optional except ``[targets]``; targets in percent, 1–100)::

    title = "Kế hoạch khảo sát sự hài lòng năm 2024"
    organisation = "Sở Nội vụ tỉnh ..."
    questionnaire = "sipas-2023"      # id or id@version; checked against the data
    baseline = "2023"                 # a period label (§5): 2023, 2023-Q4, 2023-PAR-Y, ...
    confidence = 0.95

    [targets]                         # the department's targets
    general = 85                      # the HL question (SIPAS headline)
    overall = 80                      # the composite (mean of the elements)
    elements = { TC = 80, TT = 80, CC = 85, KQ = 85, PA = 75 }
    criteria = { CC1 = 90 }

    [units.MC]                        # a unit: its display name and targets that differ
    name = "Bộ phận Một cửa"
    general = 88
    elements = { CC = 90 }
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .format import is_period_label

__all__ = [
    "INCONCLUSIVE",
    "MET",
    "NOT_MET",
    "VERDICTS",
    "Plan",
    "PlanError",
    "TargetCheck",
    "Targets",
    "UnitPlan",
    "check_targets",
    "load_plan",
    "parse_plan",
    "verdict",
]

MET = "met"
NOT_MET = "not_met"
INCONCLUSIVE = "inconclusive"
VERDICTS = (MET, NOT_MET, INCONCLUSIVE)


def _frozen(mapping: Mapping[str, float] | None = None) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping or {}))


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def verdict(*, ci: Sequence[float | None] | None, target: float) -> str | None:
    """Judge an estimate's confidence interval against a target (same units, percent).

    Parameters
    ----------
    ci : (low, high)
        The estimate's confidence interval; None or NaN bounds mean "no estimate".
    target : float
        The target.

    Returns
    -------
    {"met", "not_met", "inconclusive"} or None
        ``met`` if ``low ≥ target``, ``not_met`` if ``high < target``, otherwise
        ``inconclusive``; None when the interval is missing.

    Examples
    --------
    >>> verdict(ci=(80.0, 90.0), target=80)   # the bound touching the target counts as met
    'met'
    >>> verdict(ci=(70.0, 80.0), target=80)   # high == target is not "below"
    'inconclusive'
    >>> verdict(ci=None, target=80) is None
    True
    """
    if not _finite(target):
        raise ValueError(f"target: must be a finite number, got {target!r}")
    if ci is None or len(ci) != 2 or not (_finite(ci[0]) and _finite(ci[1])):
        return None
    low, high = float(ci[0]), float(ci[1])  # type: ignore[arg-type]
    if low > high:
        raise ValueError(f"ci: lower bound {low} is above upper bound {high}")
    if low >= target:
        return MET
    if high < target:
        return NOT_MET
    return INCONCLUSIVE


class PlanError(ValueError):
    """A plan file that cannot be used; the message names the file, the key and the problem."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Targets:
    """Targets in percent; None / absent means "no target"."""

    general: float | None = None
    overall: float | None = None
    elements: Mapping[str, float] = field(default_factory=_frozen)
    criteria: Mapping[str, float] = field(default_factory=_frozen)

    def merged(self, override: Targets) -> Targets:
        """These targets with ``override``'s set values taking precedence.

        >>> Targets(general=85, overall=80).merged(Targets(general=90)).general
        90
        """
        return Targets(
            general=override.general if override.general is not None else self.general,
            overall=override.overall if override.overall is not None else self.overall,
            elements=_frozen({**self.elements, **override.elements}),
            criteria=_frozen({**self.criteria, **override.criteria}),
        )

    def items(self) -> list[tuple[str, str | None, float]]:
        """``(level, code, target)`` for every target set, levels in report order.

        >>> Targets(general=85, elements={"TC": 80}).items()
        [('general', None, 85), ('element', 'TC', 80)]
        """
        out: list[tuple[str, str | None, float]] = []
        if self.general is not None:
            out.append(("general", None, self.general))
        if self.overall is not None:
            out.append(("overall", None, self.overall))
        out += [("element", code, t) for code, t in self.elements.items()]
        out += [("criterion", code, t) for code, t in self.criteria.items()]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "general": self.general,
            "overall": self.overall,
            "elements": dict(self.elements),
            "criteria": dict(self.criteria),
        }


@dataclass(frozen=True)
class UnitPlan:
    code: str
    name: str | None
    targets: Targets


@dataclass(frozen=True)
class Plan:
    """A parsed plan file. ``targets_for(unit)`` gives a unit's effective targets."""

    source: str
    title: str | None
    organisation: str | None
    questionnaire: str | None
    baseline: str | None
    confidence: float
    targets: Targets
    units: Mapping[str, UnitPlan]

    def targets_for(self, unit: str | None) -> Targets:
        """The department's targets overridden by the unit's own (None: the department).

        >>> plan = parse_plan('[targets]\\noverall = 80\\n[units.A]\\noverall = 85\\n')
        >>> plan.targets_for("A").overall, plan.targets_for("B").overall
        (85, 80)
        """
        if unit is None or unit not in self.units:
            return self.targets
        return self.targets.merged(self.units[unit].targets)

    def unit_name(self, unit: str) -> str:
        plan = self.units.get(unit)
        return plan.name if plan is not None and plan.name else unit

    def validate(self, questionnaire: Any) -> Plan:
        """Check element and criterion codes (and the general target) against a questionnaire.

        Raises
        ------
        PlanError
            Naming the plan file and the key with an unknown code.
        """
        elements = {e.code for e in questionnaire.elements}
        criteria = {c.code for c in questionnaire.criteria}
        tables = [("targets", self.targets)] + [
            (f"units.{code}", unit.targets) for code, unit in self.units.items()
        ]
        for where, targets in tables:
            for code in targets.elements:
                if code not in elements:
                    raise PlanError(
                        self.source, f"{where}.elements.{code}",
                        f"unknown element of {questionnaire.id}; elements: "
                        f"{', '.join(sorted(elements))}",
                    )
            for code in targets.criteria:
                if code not in criteria:
                    raise PlanError(
                        self.source, f"{where}.criteria.{code}",
                        f"unknown criterion of {questionnaire.id}; criteria: "
                        f"{', '.join(c.code for c in questionnaire.criteria)}",
                    )
            if targets.general is not None and questionnaire.general is None:
                raise PlanError(
                    self.source, f"{where}.general",
                    f"{questionnaire.id} has no general question; remove this target",
                )
        if self.questionnaire is not None:
            qid, _, version = self.questionnaire.partition("@")
            if qid != questionnaire.id or (version and int(version) != questionnaire.version):
                raise PlanError(
                    self.source, "questionnaire",
                    f"the plan is for '{self.questionnaire}' but the data use "
                    f"'{questionnaire.id}@{questionnaire.version}'",
                )
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "organisation": self.organisation,
            "questionnaire": self.questionnaire,
            "baseline": self.baseline,
            "confidence": self.confidence,
            "targets": self.targets.to_json(),
            "units": {
                code: {"name": u.name, **u.targets.to_json()} for code, u in self.units.items()
            },
        }


_TOP_KEYS = {"title", "organisation", "questionnaire", "baseline", "confidence", "targets", "units"}
_TARGET_KEYS = {"general", "overall", "elements", "criteria"}


def _target_value(source: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlanError(source, key, f"must be a number (percent), got {value!r}")
    if not 1 < value <= 100:
        hint = " (write 80 for 80 %)" if 0 < value <= 1 else ""
        raise PlanError(source, key, f"must be a percentage above 1 and at most 100{hint}")
    return value


def _text(source: str, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PlanError(source, key, "must be a non-empty text")
    return value.strip()


def _targets(source: str, prefix: str, table: Mapping[str, Any], extra: set[str]) -> Targets:
    unknown = set(table) - _TARGET_KEYS - extra
    if unknown:
        key = sorted(unknown)[0]
        raise PlanError(
            source, f"{prefix}.{key}",
            f"unknown key; allowed: {', '.join(sorted(_TARGET_KEYS | extra))}",
        )
    values: dict[str, Any] = {}
    for name in ("general", "overall"):
        if name in table:
            values[name] = _target_value(source, f"{prefix}.{name}", table[name])
    for name in ("elements", "criteria"):
        sub = table.get(name, {})
        if not isinstance(sub, dict):
            raise PlanError(source, f"{prefix}.{name}", "must be a table of code = percent")
        values[name] = _frozen(
            {
                str(code): _target_value(source, f"{prefix}.{name}.{code}", v)
                for code, v in sub.items()
            }
        )
    return Targets(**values)


def parse_plan(text: str, *, source: str = "<plan>") -> Plan:
    """Parse a plan given as TOML text (see the module docstring for the format).

    Parameters
    ----------
    text : str
        The TOML content.
    source : str
        The file name used in error messages.

    Raises
    ------
    PlanError
        Invalid TOML, an unknown key, a target outside (1, 100], a bad baseline period.

    Examples
    --------
    >>> plan = parse_plan('baseline = "2023"\\n[targets]\\ngeneral = 85\\noverall = 80\\n')
    >>> plan.baseline, plan.targets.general, plan.targets.overall
    ('2023', 85, 80)
    >>> parse_plan('[targets]\\noveral = 80\\n', source="plan.toml")
    Traceback (most recent call last):
    ...
    analysis.targets.PlanError: plan.toml: targets.overal: unknown key; allowed: criteria, elements, general, overall
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(source, "", f"is not valid TOML ({exc})") from exc
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise PlanError(
            source, sorted(unknown)[0], f"unknown key; allowed: {', '.join(sorted(_TOP_KEYS))}"
        )
    if "targets" not in data:
        raise PlanError(source, "[targets]", "is missing; the plan needs at least one target")
    if not isinstance(data["targets"], dict):
        raise PlanError(source, "targets", "must be a table")
    targets = _targets(source, "targets", data["targets"], set())

    baseline = data.get("baseline")
    if baseline is not None:
        if isinstance(baseline, int) and not isinstance(baseline, bool):
            baseline = str(baseline)  # baseline = 2023 written without quotes
        if not is_period_label(baseline):
            raise PlanError(
                source, "baseline",
                f"{baseline!r} is not a period; write e.g. \"2023\", \"2023-Q4\", \"2023-H2\", "
                "\"2023-12\" or \"2023-PAR-Y\"",
            )
    questionnaire = _text(source, "questionnaire", data.get("questionnaire"))
    if questionnaire is not None:
        _, _, version = questionnaire.partition("@")
        if version and not version.isdigit():
            raise PlanError(source, "questionnaire", "write id or id@version, e.g. sipas-2023@1")
    confidence = data.get("confidence", 0.95)
    if isinstance(confidence, bool) or not isinstance(confidence, float | int) or not (
        0 < confidence < 1
    ):
        raise PlanError(source, "confidence", "must be a number between 0 and 1, e.g. 0.95")

    units_raw = data.get("units", {})
    if not isinstance(units_raw, dict):
        raise PlanError(source, "units", "must be a table of [units.CODE] tables")
    units: dict[str, UnitPlan] = {}
    for code, table in units_raw.items():
        if not isinstance(table, dict):
            raise PlanError(source, f"units.{code}", "must be a table")
        name = _text(source, f"units.{code}.name", table.get("name"))
        units[str(code)] = UnitPlan(
            str(code), name, _targets(source, f"units.{code}", table, {"name"})
        )
    return Plan(
        source=source,
        title=_text(source, "title", data.get("title")),
        organisation=_text(source, "organisation", data.get("organisation")),
        questionnaire=questionnaire,
        baseline=baseline,
        confidence=float(confidence),
        targets=targets,
        units=MappingProxyType(units),
    )


def load_plan(path: str | Path, *, questionnaire: Any = None) -> Plan:
    """Read and check a plan file; with ``questionnaire``, also check its codes.

    Raises
    ------
    PlanError
        Unreadable file, invalid TOML or content; the message names the file and the key.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise PlanError(str(path), "", f"cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise PlanError(str(path), "", f"is not UTF-8 text ({exc})") from exc
    plan = parse_plan(text, source=str(path))
    return plan.validate(questionnaire) if questionnaire is not None else plan


@dataclass(frozen=True)
class TargetCheck:
    """One target judged against one estimate (values in percent)."""

    level: str  # "general" | "overall" | "element" | "criterion"
    code: str | None
    target: float
    index: float | None
    ci: tuple[float | None, float | None]
    n: int | None
    flag: str | None
    verdict: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "code": self.code,
            "target": self.target,
            "index": self.index,
            "ci": list(self.ci),
            "n": self.n,
            "flag": self.flag,
            "verdict": self.verdict,
        }


def _none_if_nan(value: Any) -> float | None:
    return float(value) if _finite(value) else None


def _estimate_parts(est: Any) -> tuple[float | None, tuple[float | None, float | None], Any, Any]:
    if est is None:
        return None, (None, None), None, None
    if isinstance(est, Mapping):
        value, ci, n, flag = est.get("index"), est.get("ci"), est.get("n"), est.get("flag")
    else:
        value = getattr(est, "index", getattr(est, "value", None))
        ci, n, flag = getattr(est, "ci", None), getattr(est, "n", None), getattr(est, "flag", None)
    ci = tuple(ci) if ci is not None else (None, None)
    return _none_if_nan(value), (_none_if_nan(ci[0]), _none_if_nan(ci[1])), n, flag


def _lookup(group: Any, level: str, code: str | None) -> Any:
    def part(name: str) -> Any:
        return group.get(name) if isinstance(group, Mapping) else getattr(group, name, None)

    if level in ("general", "overall"):
        return part(level)
    table = part("elements" if level == "element" else "criteria") or {}
    return table.get(code)


def check_targets(group: Any, targets: Targets) -> tuple[TargetCheck, ...]:
    """Judge every target against a group's estimates.

    Parameters
    ----------
    group : GroupResult or its JSON dict
        Needs ``general``, ``overall``, ``elements`` and ``criteria`` (estimates with
        ``index``, ``ci``, ``n``, ``flag``, in percent).
    targets : Targets

    Examples
    --------
    >>> group = {"general": {"index": 86.0, "ci": [81.0, 90.0], "n": 200, "flag": None},
    ...          "overall": {"index": 79.0, "ci": [76.0, 82.0], "n": 210, "flag": None},
    ...          "elements": {}, "criteria": {}}
    >>> [c.verdict for c in check_targets(group, Targets(general=80, overall=80))]
    ['met', 'inconclusive']
    """
    checks = []
    for level, code, target in targets.items():
        value, ci, n, flag = _estimate_parts(_lookup(group, level, code))
        checks.append(
            TargetCheck(
                level=level, code=code, target=target, index=value, ci=ci,
                n=None if n is None else int(n), flag=flag,
                verdict=verdict(ci=ci, target=target) if value is not None else None,
            )
        )
    return tuple(checks)


def with_baseline(plan: Plan, baseline: str | None) -> Plan:
    """The plan with another baseline period (the command line may override the file)."""
    if baseline is not None and not is_period_label(baseline):
        raise ValueError(f"baseline: {baseline!r} is not a period label")
    return replace(plan, baseline=baseline)
