"""Fixtures for the questionnaires tests: the shipped definition texts and a helper that
writes (possibly broken) copies into ``tmp_path/<id>/<version>.toml``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from questionnaires import DEFINITIONS_DIR

SIPAS_PATH = DEFINITIONS_DIR / "sipas-2023" / "1.toml"
TT01_PATH = DEFINITIONS_DIR / "tt01-counter" / "1.toml"

@pytest.fixture(scope="session")
def sipas_path() -> Path:
    return SIPAS_PATH


@pytest.fixture(scope="session")
def sipas_text() -> str:
    """The shipped sipas-2023 version 1 definition, as text."""
    return SIPAS_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def tt01_text() -> str:
    return TT01_PATH.read_text(encoding="utf-8")


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """``write(content, qid="sipas-2023", version=1)`` stores ``content`` (text or bytes) at
    ``tmp_path/<qid>/<version>.toml`` and returns that path."""

    def _write(content: str | bytes, qid: str = "sipas-2023", version: int | str = 1) -> Path:
        path = tmp_path / qid / f"{version}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path

    return _write

