"""Reads a SQLite file as an attacker with a copy of it would: every leaf cell of a table's
B-tree with the byte offset where it lies in its page (the newest cells of a page lie lowest).
Enough of the file format (https://sqlite.org/fileformat2.html) for these tests: no overflow
pages are followed (the keys read here sit in the first bytes of each cell)."""

from __future__ import annotations

import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = 0
    for n in range(9):
        byte = data[at + n]
        if n == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + n + 1
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Cell:
    page: int
    offset: int  # where the cell's bytes start in its page
    key: object  # the rowid of a table, or the first column of an index (WITHOUT ROWID) record


def _first_column(data: bytes, at: int) -> object:
    header_size, body = _varint(data, at)
    serial, _ = _varint(data, body)
    start = at + header_size
    if serial >= 13 and serial % 2 == 1:
        return data[start:start + (serial - 13) // 2].decode()
    if 1 <= serial <= 6:
        width = (1, 2, 3, 4, 6, 8)[serial - 1]
        return int.from_bytes(data[start:start + width], "big", signed=True)
    return None


def leaf_cells(path: Path, table: str) -> list[Cell]:
    """Every leaf cell of ``table`` (its rowid B-tree, or its primary key for WITHOUT ROWID)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).fetchone()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    data = path.read_bytes()
    cells: list[Cell] = []
    stack = [root]
    while stack:
        number = stack.pop()
        page = data[(number - 1) * page_size:number * page_size]
        head = 100 if number == 1 else 0
        kind = page[head]
        count = struct.unpack(">H", page[head + 3:head + 5])[0]
        interior = kind in (2, 5)
        pointers = head + (12 if interior else 8)
        if interior:
            stack.append(struct.unpack(">I", page[head + 8:head + 12])[0])
        for n in range(count):
            offset = struct.unpack(">H", page[pointers + 2 * n:pointers + 2 * n + 2])[0]
            if interior:
                stack.append(struct.unpack(">I", page[offset:offset + 4])[0])
            elif kind == 13:  # table leaf: payload size, rowid, record
                _, at = _varint(page, offset)
                rowid, _ = _varint(page, at)
                cells.append(Cell(number, offset, rowid))
            elif kind == 10:  # index leaf (WITHOUT ROWID): payload size, record
                _, at = _varint(page, offset)
                cells.append(Cell(number, offset, _first_column(page, at)))
    return cells


def concordance(cells: list[Cell], order: dict[object, int]) -> tuple[float, int]:
    """Of the pairs of cells in one page whose keys have a known ``order`` (0 = first written),
    the share where the lower offset belongs to the later one, and the number of pairs. An
    attacker who can tell the newer of two rows from where they lie gets 1.0; chance is 0.5."""
    pages: dict[int, list[tuple[int, int]]] = {}
    for cell in cells:
        if cell.key in order:
            pages.setdefault(cell.page, []).append((cell.offset, order[cell.key]))
    agree = pairs = 0
    for members in pages.values():
        for i, (offset_a, when_a) in enumerate(members):
            for offset_b, when_b in members[i + 1:]:
                pairs += 1
                agree += (offset_a < offset_b) == (when_a > when_b)
    return (agree / pairs if pairs else 0.5), pairs
