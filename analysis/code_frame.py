"""Nonresponse weights from the code frame: what sipas knows and a survey tool does not.

Every single-use code sipas prints records its unit, procedure and day, and whether it was
answered. Those codes are the frame of the survey (one per dossier handed back); the answered
ones are its respondents. Where citizens of one unit, procedure and month answer less often
than elsewhere, their answers count less in an unweighted index than their dossiers do. The
weight of a response in weighting class c is the inverse of the class's response rate,

    w_c = issued_c / answered_c,

over the codes whose answer window has closed (a code still open may yet be answered: the
response rate of §2.6 counts the same codes). Classes are (unit, procedure, month); a class
whose codes were answered fewer than ``min_answered`` times is pooled with the next coarser
one — the unit in that month, then the unit over the whole period, then everything — so no
weight rests on a handful of answers. Answers given on a counter poster or a kiosk have no
frame (nobody counted the citizens who walked past), so a frame-weighted analysis covers the
single-use answers only and says how many others it left out.

Responses carry no link to their code (anonymity, docs/privacy.md), so a response's class is
taken from its own unit, procedure and the month it was answered in; the codes' from the
day they were issued. A code issued on the last day of a month and answered the next day
moves one answer across the boundary: weights still sum to the codes issued, give or take
such answers. Plain pandas; no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The column a frame-weighted analysis reads its weights from (and the result names).
WEIGHT_COLUMN = "frame_weight"
#: Codes answered in a class before its own rate is used (else it is pooled).
MIN_ANSWERED = 10
#: From the finest weighting class to the coarsest.
LEVELS = (("unit", "procedure", "month"), ("unit", "month"), ("unit",), ())
LEVEL_NAMES = ("đơn vị × thủ tục × tháng", "đơn vị × tháng", "đơn vị", "toàn bộ")


def _month(days: pd.Series) -> pd.Series:
    return pd.to_datetime(days).dt.strftime("%Y-%m")


@dataclass(frozen=True)
class FrameWeights:
    """Response rates of the code frame per class at each pooling level."""

    levels: tuple[pd.DataFrame, ...]  # per level: keys, issued, answered (closed windows)
    min_answered: int

    @classmethod
    def from_issuance(cls, issuance: pd.DataFrame, *, min_answered: int = MIN_ANSWERED) -> FrameWeights:
        """From :func:`analysis.load_issuance` (single-use codes per unit, procedure and day)."""
        if int(min_answered) < 1:
            raise ValueError("min_answered: must be at least 1")
        codes = issuance[issuance["kind"] == "single"] if "kind" in issuance else issuance
        frame = pd.DataFrame({
            "unit": codes["unit"].astype(str).to_numpy(),
            "procedure": codes["procedure"].fillna("").astype(str).to_numpy(),
            "month": _month(codes["day"]).to_numpy(),
            "issued": (codes["issued"] - codes["open"]).to_numpy(np.int64),
            "answered": (codes["answered"] - codes["open_answered"]).to_numpy(np.int64),
        })
        levels = []
        for keys in LEVELS:
            if keys:
                levels.append(frame.groupby(list(keys), sort=True)[["issued", "answered"]].sum().reset_index())
            else:
                levels.append(frame[["issued", "answered"]].sum().to_frame().T.astype(np.int64))
        if int(levels[-1]["answered"].iloc[0]) == 0:
            raise ValueError(
                "frame weights: no single-use code issued in the period was answered after its "
                "answer window closed, so no response rate can weight the answers; choose a "
                "longer period or analyse without frame weights")
        return cls(tuple(levels), int(min_answered))

    def classes(self, unit: pd.Series, procedure: pd.Series, month: pd.Series) -> pd.DataFrame:
        """Per response class (unit, procedure or blank, month ``YYYY-MM``): the pooling level
        used, its issued and answered codes and the weight issued/answered."""
        out = pd.DataFrame({"unit": unit.astype(str).to_numpy(),
                            "procedure": procedure.fillna("").astype(str).to_numpy(),
                            "month": month.astype(str).to_numpy()})
        out["level"] = -1
        out["issued"] = 0
        out["answered"] = 0
        for i, (keys, table) in enumerate(zip(LEVELS, self.levels, strict=True)):
            todo = out["level"].to_numpy() < 0
            if not todo.any():
                break
            if keys:
                found = out.loc[todo, list(keys)].merge(table, how="left", on=list(keys))
                issued = found["issued"].fillna(0).to_numpy(np.int64)
                answered = found["answered"].fillna(0).to_numpy(np.int64)
            else:
                issued = np.full(int(todo.sum()), int(table["issued"].iloc[0]))
                answered = np.full(int(todo.sum()), int(table["answered"].iloc[0]))
            enough = (answered >= self.min_answered) | (i == len(LEVELS) - 1)
            rows = np.flatnonzero(todo)[enough]
            out.loc[rows, "level"] = i
            out.loc[rows, "issued"] = issued[enough]
            out.loc[rows, "answered"] = answered[enough]
        out["pooled_as"] = [LEVEL_NAMES[i] for i in out["level"]]
        out["weight"] = out["issued"] / out["answered"]
        return out

    def weights(self, unit: pd.Series, procedure: pd.Series, day: pd.Series) -> np.ndarray:
        """The weight of each response with this unit, procedure (None: none) and day."""
        keys = pd.DataFrame({"unit": unit.astype(str).to_numpy(),
                             "procedure": procedure.fillna("").astype(str).to_numpy(),
                             "month": _month(day).to_numpy()})
        distinct = keys.drop_duplicates(ignore_index=True)
        table = self.classes(distinct["unit"], distinct["procedure"], distinct["month"])
        return keys.merge(table, how="left", on=["unit", "procedure", "month"])["weight"].to_numpy(np.float64)


def weigh_frame(frame: pd.DataFrame, weights: FrameWeights) -> tuple[pd.DataFrame, int]:
    """The single-use responses of an export-format frame with their frame weight in
    :data:`WEIGHT_COLUMN`, and how many other responses (poster, kiosk) were left out."""
    single = frame["channel"].eq("single").to_numpy()
    kept = frame[single] if not single.all() else frame
    kept = kept.assign(**{WEIGHT_COLUMN: weights.weights(kept["unit"], kept["procedure"], kept["submitted_on"])})
    return kept.reset_index(drop=True), int((~single).sum())


__all__ = ["MIN_ANSWERED", "WEIGHT_COLUMN", "FrameWeights", "weigh_frame"]
