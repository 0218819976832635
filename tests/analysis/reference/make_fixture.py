"""Write fixture.csv: synthetic responses in the export format with design columns.

Run from the repository root: ``python tests/analysis/reference/make_fixture.py``.
Deterministic (seeded). 4 strata × 3–6 clusters, 3 units crossing strata, blanks, PA asked
only when feedback_given = co, HL and expectation items, dates over 2024.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import questionnaires

HERE = Path(__file__).resolve().parent


def make(seed: int = 20240515, n: int = 360) -> pd.DataFrame:
    q = questionnaires.load("sipas-2023")
    rng = np.random.default_rng(seed)
    strata = rng.choice(["S1", "S2", "S3", "S4"], size=n, p=[0.3, 0.3, 0.25, 0.15])
    clusters_per = {"S1": 6, "S2": 5, "S3": 4, "S4": 3}
    cluster = np.array([f"c{rng.integers(1, clusters_per[s] + 1)}" for s in strata])
    unit = rng.choice(["VP", "TP", "XA"], size=n, p=[0.45, 0.35, 0.2])
    base_weight = {"S1": 10.0, "S2": 25.0, "S3": 40.0, "S4": 80.0}
    weight = np.array([base_weight[s] for s in strata]) * rng.uniform(0.6, 1.4, size=n)
    days = rng.integers(0, 366, size=n)
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")
    feedback = rng.choice(["co", "khong"], size=n, p=[0.35, 0.65])
    # A latent satisfaction per respondent (plus a cluster effect) correlates the criteria.
    pairs = sorted(set(zip(strata, cluster, strict=True)))
    cluster_effect = {key: rng.normal(0, 0.6) for key in pairs}
    latent = rng.normal(0.6, 1.0, size=n) + np.array(
        [cluster_effect[(s, c)] for s, c in zip(strata, cluster, strict=True)])
    data: dict[str, object] = {
        "response_id": [f"{i:032x}" for i in rng.integers(0, 2**62, size=n)],
        "questionnaire": q.id, "questionnaire_version": q.version, "unit": unit,
        "procedure": rng.choice(["P01", "P02"], size=n), "channel": "single",
        "submitted_on": dates.strftime("%Y-%m-%d"), "same_day": rng.choice([1, 0], size=n),
        "respondent_type": "ca_nhan", "feedback_given": feedback,
        "gender": rng.choice(["nam", "nu", ""], size=n, p=[0.45, 0.45, 0.1]),
    }
    for c in q.criteria:
        score = np.clip(np.rint(3.6 + latent + rng.normal(0, 0.9, size=n)), 1, 5)
        score = score.astype(object)
        blank = rng.random(n) < 0.06
        if c.asked_if:
            blank |= feedback != "co"
        score[blank] = ""
        data[c.code] = score
    hl = np.clip(np.rint(3.7 + latent + rng.normal(0, 0.7, size=n)), 1, 5).astype(object)
    hl[rng.random(n) < 0.05] = ""
    data["HL"] = hl
    for item in q.expectations:
        values = rng.integers(1, 4, size=n).astype(object)
        values[rng.random(n) < 0.1] = ""
        data[item.code] = values
    data["weight"] = np.round(weight, 3)
    data["stratum"] = strata
    data["cluster"] = cluster
    frame = pd.DataFrame(data)
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: int(v) if isinstance(v, float) else v)
    return frame


if __name__ == "__main__":
    make().to_csv(HERE / "fixture.csv", index=False, encoding="utf-8-sig")
