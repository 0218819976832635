"""The README's screenshots, taken from a fresh demo in real headless Chromium.

    python docs/screenshots/take.py [OUTPUT_FOLDER]   (default: docs/screenshots)

Runs ``sipas demo`` in a temporary data directory on a free loopback port (the shell's
``SIPAS_*`` settings are left out: it never touches an installation), then photographs what
three people see: the citizen's form on a 360 px phone, the clerk's slip after one click,
and the analyst's dashboard. Needs Chromium at /usr/bin/chromium and Playwright for Python.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HERE = Path(__file__).resolve().parent
SHOTS = ("citizen-form.png", "clerk-slip.png", "dashboard.png")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_demo(folder: Path, port: int) -> tuple[subprocess.Popen, dict[str, str], str]:
    """``sipas demo`` serving on ``port``: the process, the passwords by user name, and the
    sample survey link it prints."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SIPAS_")}
    environ["SIPAS_DATA_DIR"] = str(folder / "sipas-data")
    sipas = shutil.which("sipas") or sys.exit("take.py: the sipas command is not installed (pip install .)")
    process = subprocess.Popen([sipas, "demo", "--port", str(port)], cwd=folder, env=environ,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    printed, passwords, sample = [], {}, ""
    for line in process.stdout:
        printed.append(line)
        if match := re.match(r"\s+\w+\s+(\w+)\s+(\S+)$", line):
            passwords[match[1]] = match[2]
        if "Citizens (a demo code):" in line:
            sample = line.split(": ", 1)[1].strip()
        if "Type a code:" in line:
            break
    if not sample:
        process.kill()
        sys.exit("take.py: sipas demo did not start:\n" + "".join(printed))
    wait_for(f"http://127.0.0.1:{port}/staff/login")
    return process, passwords, sample


def wait_for(url: str, seconds: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def log_in(page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("#username", user)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def take(out: Path, browser, base: str, passwords: dict[str, str], sample: str) -> None:
    # The citizen: the first step of the form (the general question) on a small phone.
    phone = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, locale="vi-VN",
                                is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(sample)
    page.screenshot(path=out / SHOTS[0], full_page=True)
    phone.close()
    # The clerk: one click on the home page prints a slip (the print dialog is counted, not opened).
    desk = browser.new_context(viewport={"width": 900, "height": 760}, locale="vi-VN")
    desk.add_init_script("window.print = function () {};")
    page = desk.new_page()
    log_in(page, base, "lanhsu", passwords["lanhsu"])
    with page.expect_navigation():
        page.click("#print-slip")
    page.wait_for_selector(".slip svg")
    page.screenshot(path=out / SHOTS[1])
    desk.close()
    # The analyst: the dashboard's overview.
    office = browser.new_context(viewport={"width": 1280, "height": 1640}, locale="vi-VN")
    page = office.new_page()
    log_in(page, base, "vanphong", passwords["vanphong"])
    page.goto(f"{base}/analyst/")
    page.screenshot(path=out / SHOTS[2])
    office.close()


def shrink(path: Path) -> None:
    """A palette PNG: the same picture in about a third of the bytes (a README fetches it)."""
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else HERE
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sipas-shots-") as tmp:
        port = free_port()
        process, passwords, sample = start_demo(Path(tmp), port)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                take(out, browser, f"http://127.0.0.1:{port}", passwords, sample)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    for name in SHOTS:
        shrink(out / name)
        print(out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
