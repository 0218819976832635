"""Merged and renamed units in the analysis: a predecessor's answers count under the unit
that carries on its work now (``unit_successions``, docs/organisation.md), so a comparison
of units shows the units that exist and a trend runs on across the change.

The answers keep the unit that stored them; only the labels a grouping reads are changed,
so the same cells (and a code frame's weights, which belong to the issuing unit) serve.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import pandas as pd

K = TypeVar("K")


def final(step: Mapping[K, K]) -> dict[K, K]:
    """Each predecessor → the end of its chain (A → B, then B → C, make A → C).

    >>> final({"A": "B", "B": "C", "D": "C"})
    {'A': 'C', 'B': 'C', 'D': 'C'}
    """
    out: dict[K, K] = {}
    for start in step:
        seen, current = {start}, step[start]
        while current in step and current not in seen:  # cycles are refused when recorded; stop anyway
            seen.add(current)
            current = step[current]
        out[start] = current
    return out


def successor_codes(conn: Any) -> dict[str, str]:
    """Each merged or renamed unit's code → the code of the unit that carries on its work."""
    import sqlalchemy as sa

    if not sa.inspect(conn).has_table("unit_successions"):
        return {}
    return final(dict(conn.execute(sa.text(
        "SELECT p.code, s.code FROM unit_successions us JOIN units p ON p.id = us.predecessor_id "
        "JOIN units s ON s.id = us.successor_id")).all()))


def successor_ids(conn: Any) -> dict[int, int]:
    """As :func:`successor_codes`, by unit id."""
    import sqlalchemy as sa

    if not sa.inspect(conn).has_table("unit_successions"):
        return {}
    return final(dict(conn.execute(sa.text("SELECT predecessor_id, successor_id FROM unit_successions")).all()))


def relabel(values: pd.Series, successors: Mapping[str, str]) -> pd.Series:
    """``values`` (unit codes) with each predecessor's code replaced by its successor's."""
    import numpy as np  # here: the command line (sipas unit list) reads successions without pandas
    import pandas as pd

    if not successors:
        return values
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return values.map(lambda code: successors.get(code, code))
    # Categories renamed (a million rows keep their small codes); merged names share one category.
    renamed = np.array([successors.get(code, code) for code in values.cat.categories], dtype=object)
    categories, inverse = np.unique(renamed, return_inverse=True)
    codes = values.cat.codes.to_numpy()
    return pd.Series(pd.Categorical.from_codes(np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1),
                                               categories=categories), index=values.index, name=values.name)
