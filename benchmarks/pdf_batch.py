"""Time a 1,000-code A4 label PDF against bare QR encoding, in the same run.

Baseline (issue 4): the qrcode library encoding the same URLs to module matrices with a fixed
mask (``QRCode(mask_pattern=0)``, ``add_data``, ``make(fit=True)``, ``get_matrix()``, no
image). Two baselines are timed: on the URLs as given (lower-case ``https://host/s/CODE``, the
issue's definition) and on the upper-cased text the labels actually encode (alphanumeric mode,
a smaller symbol: cheaper to encode, so the stricter comparison). Goal: batch_pdf <= 2x.

Baselines and batch_pdf are interleaved in every repeat and the ratio is taken per repeat,
then the median, so that load from other processes on a shared machine hits both sides.

    python benchmarks/pdf_batch.py [--count 1000] [--repeats 5] [--check-pages 3]

Exit status 1 if the stricter ratio exceeds --goal or a sampled page does not scan.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import qrcode
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey_app.printing import Label, batch_pdf, qr_payload, register_fonts, slip_pdf  # noqa: E402
from survey_app.printing.pdf import LABELS_PER_PAGE, sheet_cells  # noqa: E402

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def make_labels(count: int, base_url: str, seed: int) -> list[Label]:
    """``count`` labels with random 12-character Crockford codes grouped 4-4-4."""
    rng = random.Random(seed)
    labels = []
    for _ in range(count):
        raw = "".join(rng.choice(CROCKFORD) for _ in range(12))
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        labels.append(Label(code, f"{base_url}/s/{code}", "UBND phường Bến Nghé, Quận 1",
                            "Đăng ký khai sinh cho trẻ em"))
    return labels


def encode_baseline(urls: list[str]) -> None:
    for url in urls:
        qr = qrcode.QRCode(mask_pattern=0)
        qr.add_data(url)
        qr.make(fit=True)
        qr.get_matrix()


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def timed_both(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds: on a shared machine CPU time is the steadier of the two."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def spread(pages: int, k: int) -> list[int]:
    """``k`` page numbers from 1 to ``pages``, evenly spaced, first and last included."""
    if k <= 0:
        return []
    if k >= pages:
        return list(range(1, pages + 1))
    if k == 1:
        return [1]
    return sorted({round(1 + i * (pages - 1) / (k - 1)) for i in range(k)})


def scan_pages(pdf: bytes, pages: list[int], labels: list[Label]) -> list[str]:
    """Render ``pages`` (1-based) at 150 dpi and decode every label; return the problems.

    Each label is cropped and decoded on its own: zbar misses a few percent of the codes
    when scanning a whole page of 24 at once (mchehab/zbar#182), whereas a label is always
    scanned alone once cut out.
    """
    problems = []
    scale = 150 / 72
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.pdf"
        path.write_bytes(pdf)
        for page in pages:
            prefix = Path(tmp) / f"p{page}"
            subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", str(page), "-l", str(page),
                            "-singlefile", str(path), str(prefix)], check=True)
            image = Image.open(f"{prefix}.png")
            chunk = labels[(page - 1) * LABELS_PER_PAGE:page * LABELS_PER_PAGE]
            for i, (label, (left, top, width, height)) in enumerate(zip(chunk, sheet_cells(),
                                                                        strict=False)):
                cell = Path(tmp) / f"cell{page}-{i}.png"
                box = (round(left * scale), round(top * scale), round((left + width) * scale),
                       round((top + height) * scale))
                image.crop(box).save(cell)
                found = subprocess.run(["zbarimg", "--raw", "-q", str(cell)],
                                       capture_output=True, text=True).stdout.split()
                if found != [qr_payload(label.url)]:
                    problems.append(f"page {page} label {i + 1}: decoded {found}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--check-pages", type=int, default=3,
                        help="pages to render and scan (first, last, spread between); 0 skips")
    parser.add_argument("--base-url", default="https://sipas.example.gov.vn")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--goal", type=float, default=2.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    labels = make_labels(args.count, args.base_url, args.seed)
    single = labels[0]
    # Cold: the first slip in a fresh process parses the fonts.
    cold_slip = timed(lambda: slip_pdf(single))
    register_fonts()
    urls = [label.url for label in labels]
    payloads = [qr_payload(url) for url in urls]

    batch_pdf(labels[:LABELS_PER_PAGE])  # warm imports and caches outside the timings
    runs: dict[str, list[tuple[float, float]]] = {"given": [], "upper": [], "batch": []}
    pdf = b""

    def make_batch() -> None:
        nonlocal pdf
        pdf = batch_pdf(labels, title="Benchmark")

    for _ in range(args.repeats):
        runs["given"].append(timed_both(lambda: encode_baseline(urls)))
        runs["upper"].append(timed_both(lambda: encode_baseline(payloads)))
        runs["batch"].append(timed_both(make_batch))

    def median(name: str, clock: int) -> float:
        return statistics.median(run[clock] for run in runs[name])

    def ratio(baseline: str, clock: int) -> float:
        return statistics.median(b[clock] / a[clock]
                                 for a, b in zip(runs[baseline], runs["batch"], strict=True))

    slip_80 = [timed_both(lambda: slip_pdf(single, size="80mm")) for _ in range(21)]
    slip_a6 = [timed_both(lambda: slip_pdf(single, size="A6")) for _ in range(21)]

    pages = -(-args.count // LABELS_PER_PAGE)
    sample = spread(pages, args.check_pages)
    problems: list[str] = []
    which = f"all {pages} pages" if len(sample) == pages else (
        f"pages {', '.join(map(str, sample))} of {pages}")
    scan_note = (f"{which}: each of their "
                 f"{sum(min(LABELS_PER_PAGE, args.count - (p - 1) * LABELS_PER_PAGE) for p in sample)}"
                 " labels, cropped, decodes to exactly its URL")
    if not sample:
        scan_note = "not checked (--check-pages 0)"
    elif not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        scan_note = "not checked: pdftoppm or zbarimg missing"
    else:
        problems = scan_pages(pdf, sample, labels)
        if problems:
            scan_note = "; ".join(problems)

    figures = {
        "count": args.count,
        "pages": pages,
        "pdf_bytes": len(pdf),
        "repeats": args.repeats,
        "baseline_given_s": median("given", 0),
        "baseline_upper_s": median("upper", 0),
        "batch_pdf_s": median("batch", 0),
        "ratio_vs_given": ratio("given", 0),
        "ratio_vs_upper": ratio("upper", 0),
        "cpu_baseline_given_s": median("given", 1),
        "cpu_baseline_upper_s": median("upper", 1),
        "cpu_batch_pdf_s": median("batch", 1),
        "cpu_ratio_vs_given": ratio("given", 1),
        "cpu_ratio_vs_upper": ratio("upper", 1),
        "slip_80mm_ms": statistics.median(wall for wall, _ in slip_80) * 1000,
        "slip_a6_ms": statistics.median(wall for wall, _ in slip_a6) * 1000,
        "cpu_slip_80mm_ms": statistics.median(cpu for _, cpu in slip_80) * 1000,
        "cpu_slip_a6_ms": statistics.median(cpu for _, cpu in slip_a6) * 1000,
        "first_slip_cold_ms": cold_slip * 1000,
        "example_payload": payloads[0],
        "scan": scan_note,
        "python": platform.python_version(),
        "machine": f"{cpu_model()}, {os.cpu_count()} logical CPUs, load average "
                   f"{os.getloadavg()[0]:.1f}",
    }
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        print(f"{args.count} labels, {pages} A4 pages, {len(pdf) / 1024:.0f} KiB; medians of "
              f"{args.repeats} interleaved repeats; {figures['machine']}")
        print("                                   wall      CPU")
        for name, key in (("baseline, URLs as given", "baseline_given_s"),
                          ("baseline, upper-cased payloads", "baseline_upper_s"),
                          ("batch_pdf", "batch_pdf_s")):
            print(f"  {name:<32} {figures[key]:6.3f} s {figures['cpu_' + key]:6.3f} s")
        for name, key in (("ratio vs URLs as given", "ratio_vs_given"),
                          ("ratio vs encoded payloads", "ratio_vs_upper")):
            print(f"  {name:<32} {figures[key]:6.2f} x {figures['cpu_' + key]:6.2f} x")
        print(f"  goal: ratio vs encoded payloads <= {args.goal}x (wall)")
        print(f"  one slip, median of 21: 80mm {figures['slip_80mm_ms']:.1f} ms "
              f"(CPU {figures['cpu_slip_80mm_ms']:.1f}), A6 {figures['slip_a6_ms']:.1f} ms "
              f"(CPU {figures['cpu_slip_a6_ms']:.1f}); first slip in a fresh process, fonts "
              f"parsed: {figures['first_slip_cold_ms']:.0f} ms")
        print(f"  payload example: {payloads[0]}")
        print(f"  scan check: {scan_note}")
    return 0 if figures["ratio_vs_upper"] <= args.goal and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
