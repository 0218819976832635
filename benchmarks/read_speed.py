"""Reading a response export (`sipas analyze export.csv`): ``analysis.read_responses`` against
``pandas.read_csv`` of the same bytes (the least a read must do), issue 14.

    python benchmarks/read_speed.py [--responses 1000000] [--repeats 3]

A synthetic sipas-2023 export (29 rated answers, 5 % blanks in five of them, unit, date,
channel, a random response id) is written to memory once; then the two reads alternate.

``--xlsx N`` also writes N responses as a workbook and times ``read_responses`` on it against
``pandas.read_excel`` with openpyxl (how a workbook was read before calamine).

Second table (issue 14's goal, ≤ 2 ×): what ``sipas analyze export.csv --by unit --period
quarter`` computes — ``read_responses`` and ``analyze`` — against ``pandas.read_csv`` plus a
``groupby`` of the same satisfied and answered counts by unit and quarter.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import analysis  # noqa: E402
import questionnaires  # noqa: E402
from benchmarks.load.harness import machine_description  # noqa: E402


def export_bytes(n: int, seed: int = 1) -> bytes:
    q = questionnaires.load("sipas-2023")
    rng = np.random.default_rng(seed)
    scales = {c.code: c.scale.max for c in (*q.criteria, q.general, *q.expectations) if c is not None}
    answers = {c: rng.integers(1, scales[c] + 1, n).astype(float) for c in q.answer_columns}
    for c in list(answers)[:5]:
        answers[c][rng.random(n) < 0.05] = np.nan
    days = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 330, n), unit="D")
    frame = pd.DataFrame({"response_id": [f"{i:032x}" for i in rng.integers(0, 2**62, n)],
                          "unit": rng.choice(["LS", "VP", "BG", "HTQT"], n),
                          "submitted_on": days.strftime("%Y-%m-%d"), "channel": "single", **answers})
    return frame.to_csv(index=False).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--xlsx", type=int, default=0, metavar="N", help="also time a workbook of N responses")
    args = parser.parse_args(argv)
    data = export_bytes(args.responses)
    baseline, read, counted, analysed = [], [], [], []
    criteria = [c.code for c in questionnaires.load("sipas-2023").criteria]
    for _ in range(args.repeats):
        start = time.perf_counter()
        frame = pd.read_csv(io.BytesIO(data))
        baseline.append(time.perf_counter() - start)
        quarter = pd.to_datetime(frame["submitted_on"]).dt.quarter
        answers = frame[criteria]
        pd.concat([answers.ge(4), answers.notna()], axis=1, keys=["satisfied", "answered"]).groupby(
            [frame["unit"], quarter]).sum()
        counted.append(time.perf_counter() - start)
        start = time.perf_counter()
        responses = analysis.read_responses(data)
        read.append(time.perf_counter() - start)
        analysis.analyze(responses, "sipas-2023", by="unit", period="quarter")
        analysed.append(time.perf_counter() - start)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"Reading an export, {when}, {args.responses:,} responses ({len(data) / 2**20:.0f} MiB); "
          f"{machine_description()}.\n")
    print("| repeat | pandas.read_csv | read_responses | ratio |\n|---:|---:|---:|---:|")
    for n, (b, r) in enumerate(zip(baseline, read, strict=True), 1):
        print(f"| {n} | {b:.2f} s | {r:.2f} s | {r / b:.1f} |")
    print(f"| **median** | {statistics.median(baseline):.2f} s | {statistics.median(read):.2f} s "
          f"| **{statistics.median(r / b for b, r in zip(baseline, read, strict=True)):.1f}** |")
    print("\n| repeat | read_csv + groupby | read_responses + analyze | ratio |\n|---:|---:|---:|---:|")
    for n, (b, r) in enumerate(zip(counted, analysed, strict=True), 1):
        print(f"| {n} | {b:.2f} s | {r:.2f} s | {r / b:.1f} |")
    ratio = statistics.median(r / b for b, r in zip(counted, analysed, strict=True))
    print(f"| **median** | {statistics.median(counted):.2f} s | {statistics.median(analysed):.2f} s "
          f"| **{ratio:.1f}** |")
    if args.xlsx:
        frame = analysis.read_responses(export_bytes(args.xlsx))
        buffer = io.BytesIO()
        frame.to_excel(buffer, index=False, sheet_name="responses", engine="openpyxl")
        book = buffer.getvalue()
        start = time.perf_counter()
        pd.read_excel(io.BytesIO(book), sheet_name="responses", dtype=object, engine="openpyxl")
        former = time.perf_counter() - start
        start = time.perf_counter()
        analysis.read_responses(book)
        now = time.perf_counter() - start
        print(f"\nWorkbook of {args.xlsx:,} responses ({len(book) / 2**20:.0f} MiB): pandas.read_excel with "
              f"openpyxl {former:.2f} s, read_responses (calamine) {now:.2f} s ({former / now:.1f} x faster)")
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
