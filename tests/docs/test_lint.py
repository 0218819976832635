"""The house style is checked with the tests: ruff over the whole tree (pyproject.toml's
settings), so a long line or an unused import cannot land on a green run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import require

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    require(Path(ruff).exists(), "ruff is not installed (pip install -e .[test])")
    found = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert found.returncode == 0, found.stdout[-3000:] + found.stderr[-1000:]
