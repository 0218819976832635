"""QR encoding with a fixed mask, plus SVG and PNG output.

Why a fixed mask: qrcode's automatic mask choice encodes every symbol eight times and scores
each, which costs about six times the encoding itself. Any of the eight masks gives a valid,
standard symbol; scoring only nudges how "pleasant" the pattern is for old decoders. Mask 0
(checkerboard) decodes reliably with zbar and phone cameras (the tests decode every label).

Why upper case: QR's alphanumeric mode (0-9, A-Z, space and ``$%*+-./:``) packs 5.5 bits per
character against 8 in byte mode, so ``HTTPS://HOST/S/ABCD-EFGH-JK`` fits a smaller symbol
(version 3 instead of 4 at level M for a typical SIPAS URL) with bigger modules on the same
paper. Scheme and host are case-insensitive by definition; the ``/s/<code>`` route and the
Crockford base32 codes are matched case-insensitively by the app. So by default (``uppercase=
None``) a URL is upper-cased when that makes it all alphanumeric-mode characters; a URL with
a query string or other characters outside that set is left alone. Pass ``uppercase=False``
if ``SIPAS_PUBLIC_URL`` has a case-sensitive path prefix. Non-ASCII characters in the path or
query are percent-encoded first (see :func:`qr_payload`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from urllib.parse import quote, urlsplit, urlunsplit

import qrcode
from PIL import Image
from qrcode import constants

ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
ERROR_CORRECTION = {
    "L": constants.ERROR_CORRECT_L,
    "M": constants.ERROR_CORRECT_M,
    "Q": constants.ERROR_CORRECT_Q,
    "H": constants.ERROR_CORRECT_H,
}
# M survives ~15% damage (smudged thermal paper, a fold) at one version more than L.
DEFAULT_ECC = "M"
DEFAULT_MASK = 0
# The standard asks for 4 light modules around the symbol; SVG, PNG and PDFs keep them.
QUIET_ZONE = 4

Matrix = list[list[bool]]
Rect = list[int]  # [x, y, width, height] in modules

DARK_RUN = re.compile(b"\x01+")
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"  # ASCII stays as it is; only other characters are encoded


def qr_payload(url: str, *, uppercase: bool | None = None) -> str:
    """The exact text stored in the QR code for ``url`` (what a scanner reads back).

    Non-ASCII characters in path, query and fragment are percent-encoded (UTF-8); a
    non-ASCII host is refused. Then, with ``uppercase=None``, the URL is upper-cased if that
    makes it fit QR alphanumeric mode; ``True`` insists (ValueError if impossible), ``False``
    keeps the case as given.

    >>> qr_payload("https://sipas.example.vn/s/ABCD-EFGH-JK")
    'HTTPS://SIPAS.EXAMPLE.VN/S/ABCD-EFGH-JK'
    >>> qr_payload("https://sipas.example.vn/s/abc?x=1")
    'https://sipas.example.vn/s/abc?x=1'
    >>> qr_payload("https://sipas.example.vn/s/ABCD", uppercase=False)
    'https://sipas.example.vn/s/ABCD'
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"url must be a non-empty string, not {url!r}")
    url = _ascii_url(url)
    if uppercase is False:
        return url
    upper = url.upper()
    safe = set(upper) <= ALPHANUMERIC
    if uppercase is None:
        return upper if safe else url
    if not safe:
        raise ValueError(
            f"url {url!r} cannot be upper-cased into QR alphanumeric mode (allowed: 0-9, A-Z, "
            "space and $%*+-./:); pass uppercase=None to fall back to byte mode"
        )
    return upper


def _ascii_url(url: str) -> str:
    """Percent-encode non-ASCII characters (as browsers do with an IRI).

    Byte mode carries no charset: without an ECI header, scanners guess, and zbar reads UTF-8
    as Shift-JIS. An ASCII payload reads back the same everywhere.
    """
    if url.isascii():
        return url
    parts = urlsplit(url)
    if not parts.netloc.isascii():
        raise ValueError(f"url {url!r} has a non-ASCII host: use its punycode form (xn--...)")
    return urlunsplit(parts._replace(
        path=quote(parts.path, safe=_URL_SAFE),
        query=quote(parts.query, safe=_URL_SAFE),
        fragment=quote(parts.fragment, safe=_URL_SAFE),
    ))


def _check_options(ecc: str, mask: int) -> None:
    if ecc not in ERROR_CORRECTION:
        raise ValueError(f"ecc must be one of L, M, Q, H, not {ecc!r}")
    if isinstance(mask, bool) or mask not in range(8):
        raise ValueError(f"mask must be a QR mask pattern 0-7, not {mask!r}")


def _check_border(border: int) -> None:
    if isinstance(border, bool) or not isinstance(border, int) or border < 0:
        raise ValueError(f"border must be a whole number of modules >= 0, not {border!r}")


def encode_payload(payload: str, *, ecc: str = DEFAULT_ECC, mask: int = DEFAULT_MASK) -> Matrix:
    """Module matrix (no quiet zone) of ``payload`` exactly as given, one segment, fixed mask."""
    _check_options(ecc, mask)
    qr = qrcode.QRCode(error_correction=ERROR_CORRECTION[ecc], mask_pattern=mask, border=0)
    # optimize=0: one segment in the best single mode (alphanumeric for an upper-cased URL);
    # qrcode's default chunking into mixed-mode segments only costs time on URLs.
    qr.add_data(payload, optimize=0)
    try:
        qr.make(fit=True)
    except (qrcode.exceptions.DataOverflowError, ValueError) as exc:  # ValueError: version 41
        raise ValueError(f"url is too long for a QR code ({len(payload)} characters)") from exc
    return qr.modules


def qr_matrix(
    url: str,
    *,
    border: int = 0,
    uppercase: bool | None = None,
    ecc: str = DEFAULT_ECC,
    mask: int = DEFAULT_MASK,
) -> Matrix:
    """Modules of the QR code for ``url``, True = dark, row by row from the top.

    The quiet zone is excluded unless ``border`` (in modules) is given. See :func:`qr_payload`
    for ``uppercase``; ``ecc`` is the error correction level, ``mask`` the fixed mask pattern.

    >>> m = qr_matrix("https://sipas.example.vn/s/ABCD-EFGH-JK")
    >>> len(m), len(m[0]), m[0][:7]
    (29, 29, [True, True, True, True, True, True, True])
    """
    _check_border(border)
    matrix = encode_payload(qr_payload(url, uppercase=uppercase), ecc=ecc, mask=mask)
    if not border:
        return matrix
    width = len(matrix) + 2 * border
    pad = [False] * border
    blank = [[False] * width for _ in range(border)]
    return blank + [pad + row + pad for row in matrix] + [[False] * width for _ in range(border)]


def dark_rects(matrix: Sequence[Sequence[bool]]) -> list[Rect]:
    """Cover the dark modules with few rectangles: runs along a row, stacked when identical.

    Drawing ~100 rectangles instead of ~400 squares keeps PDFs and SVGs small and fast, and
    leaves no hairline seams between modules when a viewer anti-aliases.

    >>> dark_rects([[True, True, False], [True, True, False], [False, False, True]])
    [[0, 0, 2, 2], [2, 2, 1, 1]]
    """
    rects: list[Rect] = []
    above: dict[tuple[int, int], Rect] = {}
    for y, row in enumerate(matrix):
        here: dict[tuple[int, int], Rect] = {}
        for run in DARK_RUN.finditer(bytes(row)):
            key = run.span()
            rect = above.get(key)
            if rect is None:
                rect = [key[0], y, key[1] - key[0], 1]
                rects.append(rect)
            else:
                rect[3] += 1
            here[key] = rect
        above = here
    return rects


def _svg_size(size: int | float | str | None) -> str:
    if size is None:
        return ""
    if isinstance(size, bool) or (isinstance(size, int | float) and size <= 0):
        raise ValueError(f"size must be a positive number of pixels or a CSS length, not {size!r}")
    if isinstance(size, int | float):
        return f' width="{size:g}" height="{size:g}"'
    if isinstance(size, str) and re.fullmatch(r"\d+(\.\d+)?(px|mm|cm|in|pt|em|rem|%)?", size):
        return f' width="{size}" height="{size}"'
    raise ValueError(f"size must be a positive number of pixels or a CSS length, not {size!r}")


def qr_svg(
    url: str,
    *,
    size: int | float | str | None = None,
    border: int = QUIET_ZONE,
    dark: str = "#000",
    light: str | None = "#fff",
    uppercase: bool | None = None,
    ecc: str = DEFAULT_ECC,
    mask: int = DEFAULT_MASK,
) -> str:
    """A compact standalone SVG of the QR code: one ``<path>`` for all dark modules.

    The viewBox is in modules (quiet zone of ``border`` included). ``size`` sets width and
    height: a number of pixels or a CSS length such as ``"30mm"``; None lets the SVG fill its
    container. ``light`` paints a background rectangle (None for transparent: only safe on a
    light page).
    """
    _check_border(border)
    for name, colour in (("dark", dark), ("light", light)):
        if colour is not None and not re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-z]+", colour):
            raise ValueError(f"{name} must be a colour like '#000' or 'black', not {colour!r}")
    matrix = qr_matrix(url, uppercase=uppercase, ecc=ecc, mask=mask)
    extent = len(matrix) + 2 * border
    path = "".join(
        f"M{x + border} {y + border}h{w}v{h}h-{w}z" for x, y, w, h in dark_rects(matrix)
    )
    background = "" if light is None else f'<rect width="100%" height="100%" fill="{light}"/>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {extent} {extent}"'
        f'{_svg_size(size)} shape-rendering="crispEdges">'
        f'{background}<path fill="{dark}" d="{path}"/></svg>'
    )


def qr_png(
    url: str,
    *,
    scale: int = 8,
    border: int = QUIET_ZONE,
    uppercase: bool | None = None,
    ecc: str = DEFAULT_ECC,
    mask: int = DEFAULT_MASK,
) -> bytes:
    """PNG bytes of the QR code, ``scale`` pixels per module, 1-bit black on white."""
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 100:
        raise ValueError(f"scale must be a whole number of pixels per module, 1-100, not {scale!r}")
    matrix = qr_matrix(url, border=border, uppercase=uppercase, ecc=ecc, mask=mask)
    extent = len(matrix)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (extent, extent), pixels).convert("1")
    image = image.resize((extent * scale, extent * scale), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
