"""Writes rest_fixture.csv: tt01-counter answers of four units with weights, strata and two
ways of clustering, for the unit-against-the-rest reference (rest_reference.R).

Stratum A = {LS, VP}, B = {BG, HTQT}. ``psu_unit`` = unit × month, with all of VP's answers
in one PSU (a unit in a single PSU inside a multi-PSU stratum; LS's rest in A is then one
PSU); ``psu_shared`` = stratum × month, so the units of a stratum share PSUs. Run from the
repository root: ``python tests/analysis/reference/make_rest_fixture.py``.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

OUT = Path(__file__).with_name("rest_fixture.csv")
UNITS = {"LS": ("A", 0.80), "VP": ("A", 0.65), "BG": ("B", 0.75), "HTQT": ("B", 0.55)}


def main() -> None:
    rng = random.Random(20)
    rows = []
    for unit, (stratum, quality) in UNITS.items():
        count = 24 if unit == "VP" else 60
        for i in range(count):
            month = 1 if unit == "VP" else 1 + i % 5
            row = {"unit": unit, "stratum": stratum, "psu_unit": f"{unit}-{month}",
                   "psu_shared": f"{stratum}-{1 + i % 4}", "weight": round(rng.uniform(0.5, 3.0), 3)}
            for item in ("DG1", "DG2", "DG3", "HL"):
                if item != "HL" and rng.random() < 0.06:
                    row[item] = ""
                    continue
                row[item] = 3 if rng.random() < quality - 0.2 else (2 if rng.random() < 0.5 else 1)
            rows.append(row)
    with OUT.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
