"""The README's screenshots are what the product shows: the command it names takes them again
from a fresh demo in real Chromium, and every picture the README shows is in the repository."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from tests.support import hermetic_environ, require

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMAND = "python docs/screenshots/take.py"
SIZES = {"citizen-form.png": 720, "clerk-slip.png": 900, "dashboard.png": 1280}  # widths in pixels


def test_the_readme_shows_the_three_pictures_it_keeps():
    shown = re.findall(r'<img src="(docs/screenshots/[^"]+)"[^>]* alt="[^"]{20,}"', README)
    assert sorted(Path(p).name for p in shown) == sorted(SIZES)
    for path in shown:
        with Image.open(ROOT / path) as image:
            assert image.width == SIZES[Path(path).name]


def test_the_readme_command_takes_them_again(tmp_path):
    require(Path("/usr/bin/chromium").exists(), "/usr/bin/chromium is not installed (apt-get install chromium)")
    assert f"`{COMMAND}`" in README
    done = subprocess.run([sys.executable, COMMAND.split()[1], str(tmp_path)], cwd=ROOT, env=hermetic_environ(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for name, width in SIZES.items():
        with Image.open(tmp_path / name) as image:
            assert image.width == width and image.height >= 700
            assert ImageStat.Stat(image.convert("L")).stddev[0] > 20  # a page, not a blank
    with Image.open(tmp_path / "citizen-form.png") as phone:
        assert phone.height > 2 * 740  # the whole first step, general question and button included
