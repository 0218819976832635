"""Fixtures that check printed output for real: render with pdftoppm, decode with zbarimg, read
text with pdftotext (Debian: poppler-utils, zbar-tools).

Without the tools the tests that need them are skipped locally, but under CI=true they fail:
a CI image without them would otherwise pass without checking anything.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pytest
from PIL import Image

from survey_app.printing import Label
from survey_app.printing.pdf import sheet_cells

DPI = 150


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed (apt-get install poppler-utils zbar-tools)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; it is required when CI=true")
        pytest.skip(message)
    return path


@pytest.fixture
def render(tmp_path: Path) -> Callable[[bytes, int], Path]:
    """Render page ``page`` (1-based) of a PDF to a PNG at 150 dpi, as the office would print."""
    pdftoppm = _require("pdftoppm")

    def run(pdf: bytes, page: int = 1) -> Path:
        source = tmp_path / "doc.pdf"
        source.write_bytes(pdf)
        prefix = tmp_path / f"page{page}"
        subprocess.run([pdftoppm, "-r", str(DPI), "-png", "-f", str(page), "-l", str(page),
                        "-singlefile", str(source), str(prefix)], check=True)
        return prefix.with_suffix(".png")

    return run


@pytest.fixture
def decode() -> Callable[[Path], list[str]]:
    """Every QR code zbarimg finds in an image, as text."""
    zbarimg = _require("zbarimg")

    def run(image: Path) -> list[str]:
        result = subprocess.run([zbarimg, "--raw", "-q", str(image)], capture_output=True,
                                text=True)
        return result.stdout.splitlines()

    return run


@pytest.fixture
def decode_labels(render, decode, tmp_path: Path) -> Callable[[bytes, int, int], list[list[str]]]:
    """Decode each label of a sheet on its own: crop every cell of the rendered page.

    zbar misses a few percent of the codes when it scans a whole page of 24 (a known zbar
    limitation with many symbols in one image, mchehab/zbar#182); each cell alone decodes,
    and that is also how a label is scanned once cut out.
    """

    def run(pdf: bytes, page: int = 1, count: int = 24) -> list[list[str]]:
        image = Image.open(render(pdf, page))
        scale = DPI / 72
        found = []
        for i, (left, top, width, height) in enumerate(sheet_cells()[:count]):
            box = (round(left * scale), round(top * scale), round((left + width) * scale),
                   round((top + height) * scale))
            cell = tmp_path / f"cell{page}-{i}.png"
            image.crop(box).save(cell)
            found.append(decode(cell))
        return found

    return run


@pytest.fixture
def pdf_text(tmp_path: Path) -> Callable[[bytes], str]:
    """pdftotext of a PDF, whitespace (including no-break spaces) collapsed to single spaces."""
    pdftotext = _require("pdftotext")

    def run(pdf: bytes) -> str:
        source = tmp_path / "text.pdf"
        source.write_bytes(pdf)
        out = subprocess.run([pdftotext, "-enc", "UTF-8", str(source), "-"], check=True,
                             capture_output=True, text=True).stdout
        return " ".join(out.split())

    return run


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</word>")


@pytest.fixture
def pdf_words(tmp_path: Path) -> Callable[[bytes, int], list[tuple[float, float, float, float, str]]]:
    """Words of one page with their boxes (xMin, yMin, xMax, yMax in points from top-left)."""
    pdftotext = _require("pdftotext")

    def run(pdf: bytes, page: int = 1) -> list[tuple[float, float, float, float, str]]:
        source = tmp_path / "words.pdf"
        source.write_bytes(pdf)
        html = subprocess.run([pdftotext, "-bbox", "-enc", "UTF-8", "-f", str(page), "-l",
                               str(page), str(source), "-"], check=True, capture_output=True,
                              text=True).stdout
        return [(float(a), float(b), float(c), float(d), unescape(w))
                for a, b, c, d, w in _WORD.findall(html)]

    return run


@pytest.fixture
def labels() -> Callable[..., list[Label]]:
    """``n`` labels with distinct Crockford-style codes, one Vietnamese unit and procedure."""

    def make(n: int = 24, *, unit: str = "UBND phường Bến Nghé, Quận 1",
             procedure: str | None = "Đăng ký khai sinh", **extra: object) -> list[Label]:
        alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        rng = random.Random(n)
        result = []
        for _ in range(n):
            raw = "".join(rng.choice(alphabet) for _ in range(12))
            code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
            result.append(Label(code, f"https://sipas.example.gov.vn/s/{code}", unit, procedure,
                                **extra))  # type: ignore[arg-type]
        return result

    return make
