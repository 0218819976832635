from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import qrcode
from PIL import Image, ImageDraw

from survey_app.printing import qr_matrix, qr_payload, qr_png, qr_svg
from survey_app.printing.document import run_ops
from survey_app.printing.qr import QUIET_ZONE, dark_rects

URL = "https://sipas.example.gov.vn/s/ABCD-EFGH-JKMN"
PAYLOAD = "HTTPS://SIPAS.EXAMPLE.GOV.VN/S/ABCD-EFGH-JKMN"
SVG_NS = "{http://www.w3.org/2000/svg}"


# --- What goes into the symbol ----------------------------------------------------------------


def test_payload_is_upper_cased_when_that_allows_alphanumeric_mode() -> None:
    assert qr_payload(URL) == PAYLOAD
    assert qr_payload(URL, uppercase=True) == PAYLOAD


@pytest.mark.parametrize("url", [
    "https://sipas.example.gov.vn/s/abcd?ref=counter",  # '?' and '=' are not alphanumeric
    "https://sipas.example.gov.vn/s/ABCD_EF",  # '_' neither
])
def test_payload_is_left_alone_when_upper_case_would_not_help(url: str) -> None:
    assert qr_payload(url) == url


def test_non_ascii_is_percent_encoded_so_scanners_need_not_guess_a_charset() -> None:
    assert qr_payload("https://x.vn/s/quầy?q=ß") == "https://x.vn/s/qu%E1%BA%A7y?q=%C3%9F"
    assert qr_payload("https://x.vn/s/quầy") == "HTTPS://X.VN/S/QU%E1%BA%A7Y"
    with pytest.raises(ValueError, match="punycode"):
        qr_payload("https://straße.example/s/ABCD")


def test_payload_can_be_kept_as_given() -> None:
    assert qr_payload(URL, uppercase=False) == URL


def test_forcing_upper_case_on_an_unsuitable_url_is_an_error() -> None:
    with pytest.raises(ValueError, match="alphanumeric"):
        qr_payload("https://x.vn/s/a?b=c", uppercase=True)


@pytest.mark.parametrize("url", ["", "   ", None])
def test_empty_url_is_rejected(url: object) -> None:
    with pytest.raises(ValueError, match="url"):
        qr_payload(url)  # type: ignore[arg-type]


# --- Matrix -----------------------------------------------------------------------------------


def _reference(payload: str, mask: int = 0) -> list[list[bool]]:
    """The qrcode library's own encoding with the same fixed mask, level M."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=mask,
                       border=0)
    qr.add_data(payload)
    qr.make(fit=True)
    return qr.get_matrix()


@pytest.mark.parametrize("url", [URL, "https://sipas.example.gov.vn/s/abcd?ref=1",
                                 "https://sipas.example.gov.vn/s/0123-4567-89AB-C"])
def test_matrix_is_a_standard_symbol_identical_to_qrcodes(url: str) -> None:
    matrix = qr_matrix(url)
    assert matrix == _reference(qr_payload(url))
    size = len(matrix)
    assert all(len(row) == size for row in matrix)
    assert (size - 17) % 4 == 0  # 21, 25, 29 ... modules: versions 1-40
    finder = [row[:7] for row in matrix[:7]]
    assert finder[0] == [True] * 7 and finder[3] == [True, False, True, True, True, False, True]


def test_upper_case_gives_a_smaller_symbol() -> None:
    assert len(qr_matrix(URL)) < len(qr_matrix(URL, uppercase=False))


def test_mask_and_error_correction_can_be_chosen() -> None:
    assert qr_matrix(URL, mask=3) == _reference(PAYLOAD, mask=3)
    assert len(qr_matrix(URL, ecc="L")) <= len(qr_matrix(URL, ecc="H"))


def test_border_adds_light_modules_around_the_symbol() -> None:
    plain, framed = qr_matrix(URL), qr_matrix(URL, border=2)
    assert len(framed) == len(plain) + 4
    assert not any(framed[0]) and not any(framed[-1])
    assert [row[2:-2] for row in framed[2:-2]] == plain


@pytest.mark.parametrize("kwargs", [{"ecc": "X"}, {"mask": 8}, {"mask": -1}, {"border": -1},
                                    {"border": 1.5}])
def test_bad_options_are_value_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        qr_matrix(URL, **kwargs)  # type: ignore[arg-type]


def test_too_long_url_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="too long"):
        qr_matrix("https://x.vn/" + "a?" * 2000)


def test_dark_rects_cover_exactly_the_dark_modules() -> None:
    for url in (URL, "https://sipas.example.gov.vn/s/zz?x=1"):
        matrix = qr_matrix(url)
        painted = [[0] * len(matrix) for _ in matrix]
        for x, y, w, h in dark_rects(matrix):
            for row in range(y, y + h):
                for column in range(x, x + w):
                    painted[row][column] += 1
        assert painted == [[int(module) for module in row] for row in matrix]  # no overlaps


def test_pdf_run_operators_cover_exactly_the_dark_modules() -> None:
    for url in (URL, "https://sipas.example.gov.vn/s/zz?x=1", URL):  # URL twice: cached path
        matrix = qr_matrix(url)
        painted = [[0] * len(matrix) for _ in matrix]
        for x, y, w, h in re.findall(r"(\d+) (\d+) (\d+) (\d+) re", run_ops(matrix)):
            for column in range(int(x), int(x) + int(w)):
                painted[int(y)][column] += int(h)
        assert painted == [[int(module) for module in row] for row in matrix]


# --- SVG --------------------------------------------------------------------------------------


def _svg_rects(path_data: str) -> list[tuple[int, int, int, int]]:
    rects = re.findall(r"M(\d+) (\d+)h(\d+)v(\d+)h-(\d+)z", path_data)
    assert "".join(f"M{x} {y}h{w}v{h}h-{w2}z" for x, y, w, h, w2 in rects) == path_data
    assert all(w == w2 for _, _, w, _, w2 in rects)
    return [(int(x), int(y), int(w), int(h)) for x, y, w, h, _ in rects]


def test_svg_is_well_formed_with_one_path_drawing_the_matrix() -> None:
    svg = qr_svg(URL)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    paths = root.findall(f".//{SVG_NS}path")
    assert len(paths) == 1
    matrix = qr_matrix(URL)
    extent = len(matrix) + 2 * QUIET_ZONE
    assert root.get("viewBox") == f"0 0 {extent} {extent}"
    grid = [[False] * extent for _ in range(extent)]
    for x, y, w, h in _svg_rects(paths[0].get("d", "")):
        for row in range(y, y + h):
            for column in range(x, x + w):
                grid[row][column] = True
    assert grid == qr_matrix(URL, border=QUIET_ZONE)
    assert "\n" not in svg and len(svg) < 4000  # compact enough to inline in JSON


def test_svg_decodes_after_rasterising(tmp_path: Path, decode) -> None:
    root = ET.fromstring(qr_svg(URL))
    extent = int(root.get("viewBox", "").split()[2])
    scale = 6
    image = Image.new("L", (extent * scale, extent * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w, h in _svg_rects(root.find(f"{SVG_NS}path").get("d", "")):  # type: ignore[union-attr]
        draw.rectangle([x * scale, y * scale, (x + w) * scale - 1, (y + h) * scale - 1], fill=0)
    image.save(tmp_path / "svg.png")
    assert decode(tmp_path / "svg.png") == [PAYLOAD]


@pytest.mark.parametrize(("size", "attr"), [(None, None), (120, "120"), ("30mm", "30mm"),
                                            (2.5, "2.5")])
def test_svg_size(size: object, attr: str | None) -> None:
    root = ET.fromstring(qr_svg(URL, size=size))  # type: ignore[arg-type]
    assert root.get("width") == attr and root.get("height") == attr


@pytest.mark.parametrize("size", [0, -3, "big", '1" onload="x', True])
def test_svg_bad_size_is_rejected(size: object) -> None:
    with pytest.raises(ValueError, match="size"):
        qr_svg(URL, size=size)  # type: ignore[arg-type]


def test_svg_colours_and_transparent_background() -> None:
    root = ET.fromstring(qr_svg(URL, dark="#123456", light=None))
    assert root.find(f"{SVG_NS}rect") is None
    assert root.find(f"{SVG_NS}path").get("fill") == "#123456"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="dark"):
        qr_svg(URL, dark='"/><script>')


# --- PNG --------------------------------------------------------------------------------------


def test_png_has_the_expected_size_and_decodes(tmp_path: Path, decode) -> None:
    png = qr_png(URL, scale=4)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    expected = (len(qr_matrix(URL)) + 2 * QUIET_ZONE) * 4
    assert width == height == expected
    (tmp_path / "qr.png").write_bytes(png)
    assert decode(tmp_path / "qr.png") == [PAYLOAD]


def test_png_of_a_byte_mode_url_decodes(tmp_path: Path, decode) -> None:
    url = "https://sipas.example.gov.vn/s/abcd?ref=quầy-1"
    (tmp_path / "qr.png").write_bytes(qr_png(url))
    assert decode(tmp_path / "qr.png") == ["https://sipas.example.gov.vn/s/abcd?ref=qu%E1%BA%A7y-1"]


@pytest.mark.parametrize("scale", [0, 101, 2.5, True])
def test_png_bad_scale_is_rejected(scale: object) -> None:
    with pytest.raises(ValueError, match="scale"):
        qr_png(URL, scale=scale)  # type: ignore[arg-type]
