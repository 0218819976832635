"""How many answers (and how many codes to hand out) a reporting unit needs (methodology §6).

The plan is made per reporting unit: each unit is a domain with its own index, so every
unit needs the sample size below, not the department as a whole.

>>> r = sample_size(margin=0.05, population=2000, deff=1.5)
>>> round(r.n0, 2), round(r.n_design, 2), round(r.n_finite, 1), r.required
(384.15, 576.22, 447.3, 448)
>>> round(yamane(population=2000, margin=0.05), 1)
333.3
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats

__all__ = ["SampleSize", "sample_size", "yamane", "z_value"]


@dataclass(frozen=True)
class SampleSize:
    """The steps of the §6 calculation, each unrounded, and the whole numbers to plan with.

    Attributes
    ----------
    n0 : float
        Simple random sample, infinite population: ``z² p (1 − p) / e²``.
    n_design : float
        ``n0 · deff``.
    n_finite : float
        ``n_design / (1 + n_design / N)`` (equals ``n_design`` without a population).
    n_invitations : float
        ``n_finite / response_rate``: codes to hand out.
    required : int
        ``ceil(n_finite)``: completed answers needed.
    invitations : int
        ``ceil(n_invitations)``: codes to issue at the expected response rate.
    yamane : float or None
        ``N / (1 + N e²)`` when a population is given (older Ministry guidance; it
        assumes p = 0.5, 95 % and ignores deff).
    """

    margin: float
    confidence: float
    p: float
    population: int | None
    deff: float
    response_rate: float
    z: float
    n0: float
    n_design: float
    n_finite: float
    n_invitations: float
    required: int
    invitations: int
    yamane: float | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of inputs and results."""
        return asdict(self)


def _ceil(value: float) -> int:
    # 384.0000000001 from floating point must not become 385.
    return math.ceil(round(value, 9))


def z_value(confidence: float) -> float:
    """Two-sided normal quantile ``z = Φ⁻¹(1 − (1 − confidence)/2)``.

    >>> round(z_value(0.95), 6)
    1.959964
    """
    _check_open_unit("confidence", confidence)
    return float(stats.norm.isf((1.0 - confidence) / 2.0))


def _check_open_unit(name: str, value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0.0 < value < 1.0:
        hint = " (0.05 for ±5 points)" if name == "margin" else ""
        raise ValueError(
            f"{name}: must be a number strictly between 0 and 1{hint}, got {value!r}"
        )


def yamane(*, population: int, margin: float) -> float:
    """Yamane's formula ``n = N / (1 + N e²)``.

    Parameters
    ----------
    population : int
        N, the number of people served in the period (dossiers), at least 1.
    margin : float
        e, the margin of error as a proportion (0.05 for ±5 points).

    Examples
    --------
    >>> round(yamane(population=2000, margin=0.05), 2)
    333.33
    """
    _check_open_unit("margin", margin)
    _check_population(population)
    return population / (1.0 + population * margin**2)


def _check_population(population: int) -> None:
    if isinstance(population, bool) or not isinstance(population, int) or population < 1:
        raise ValueError(f"population: must be a whole number of at least 1, got {population!r}")


def sample_size(
    *,
    margin: float,
    confidence: float = 0.95,
    p: float = 0.5,
    population: int | None = None,
    deff: float = 1.0,
    response_rate: float = 1.0,
) -> SampleSize:
    """Sample size for estimating a proportion to within ``±margin`` (methodology §6).

    ``n0 = z² p (1 − p) / e²``; ``n1 = n0 · deff``; with a population N,
    ``n = n1 / (1 + n1 / N)``; codes to issue ``= n / response_rate``.

    Parameters
    ----------
    margin : float
        e, half-width of the confidence interval as a proportion (0.05 = ±5 points).
    confidence : float
        Confidence level, default 0.95.
    p : float
        Expected proportion satisfied; 0.5 is the safe (largest) choice.
    population : int, optional
        N, people served by the unit in the period; omit for an infinite population.
    deff : float
        Design effect (≥ 1 for clustered designs); 1 for simple random sampling.
    response_rate : float
        Expected share of handed-out codes that come back answered, in (0, 1].

    Returns
    -------
    SampleSize

    Examples
    --------
    >>> r = sample_size(margin=0.05, population=2000)
    >>> round(r.n0, 2), round(r.n_finite, 1), r.required, round(r.yamane, 1)
    (384.15, 322.3, 323, 333.3)
    >>> sample_size(margin=0.05, response_rate=0.4).invitations
    961
    """
    _check_open_unit("margin", margin)
    _check_open_unit("confidence", confidence)
    _check_open_unit("p", p)
    if isinstance(deff, bool) or not isinstance(deff, int | float) or not deff > 0:
        raise ValueError(f"deff: must be a positive number, got {deff!r}")
    if (
        isinstance(response_rate, bool)
        or not isinstance(response_rate, int | float)
        or not 0.0 < response_rate <= 1.0
    ):
        raise ValueError(f"response_rate: must be in (0, 1], got {response_rate!r}")
    if population is not None:
        _check_population(population)
    z = z_value(confidence)
    n0 = z**2 * p * (1.0 - p) / margin**2
    n_design = n0 * deff
    n_finite = n_design if population is None else n_design / (1.0 + n_design / population)
    n_invitations = n_finite / response_rate
    return SampleSize(
        margin=float(margin),
        confidence=float(confidence),
        p=float(p),
        population=population,
        deff=float(deff),
        response_rate=float(response_rate),
        z=z,
        n0=n0,
        n_design=n_design,
        n_finite=n_finite,
        n_invitations=n_invitations,
        required=_ceil(n_finite),
        invitations=_ceil(n_invitations),
        yamane=None if population is None else yamane(population=population, margin=margin),
    )
