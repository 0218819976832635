"""Accessibility of every page a citizen can meet, checked with axe-core in real Chromium:
the form, each error page and the thank-you page, in Vietnamese and in English. No serious or
critical violation is allowed.

axe-core comes from the npm registry, pinned, installed once into a cache folder with npm
(never from a CDN at test time); SIPAS_AXE_JS may point at an axe.min.js instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from pathlib import Path

import pytest

from survey_app.extensions import db
from survey_app.models import SurveyCode
from survey_app.services import codes
from tests.support import answer_in_steps, full_answers, issue_codes, require, require_tool

pytestmark = pytest.mark.browser

AXE_VERSION = "4.14.1"
BLOCKING = ("serious", "critical")


def _cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "sipas-tests" / f"axe-core-{AXE_VERSION}"


def install_axe() -> Path:
    """The path of axe.min.js: SIPAS_AXE_JS, else the pinned npm package in the cache folder,
    installed there on first use (a lock keeps parallel test workers from racing)."""
    given = os.environ.get("SIPAS_AXE_JS")
    if given:
        require(Path(given).is_file(), f"SIPAS_AXE_JS={given} is not a file")
        return Path(given)
    folder = _cache_dir()
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if script.is_file():
        return script
    npm = require_tool("npm")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not script.is_file():
            done = subprocess.run([npm, "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
                                   "--ignore-scripts", "--prefix", str(folder), f"axe-core@{AXE_VERSION}"],
                                  capture_output=True, text=True, timeout=300)
            require(done.returncode == 0, f"npm could not install axe-core@{AXE_VERSION}: {done.stderr[-500:]}")
    require(script.is_file(), f"axe-core@{AXE_VERSION} installed without {script.name}")
    return script


@pytest.fixture(scope="module")
def axe_js() -> Path:
    return install_axe()


@pytest.fixture
def screen(browser):
    """A phone-sized page that lets axe in despite the Content-Security-Policy (which forbids
    inline scripts, as it should)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True,
                                  locale="vi-VN", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def _reset_rate_limits() -> None:
    """Rate-limit hits live in process memory, keyed by address (all 127.0.0.1 here)."""
    from survey_app.public import views

    views._limits.storage.reset()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    _reset_rate_limits()
    yield
    _reset_rate_limits()


def blocking_violations(page, axe_js: Path) -> list[dict]:
    page.add_script_tag(path=str(axe_js))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}")
        for node in violation["nodes"][:5]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {json.dumps(node['target'])}: {node['html'][:160]} — {summary[:300]}")
    return "\n".join(lines)


# How to reach each page, in a language: a function (page, base, lang) -> expected status.
def _with_lang(url: str, lang: str) -> str:
    return url + (("&" if "?" in url else "?") + "lang=en" if lang == "en" else "")


def _goto(page, url: str) -> int:
    response = page.goto(url)
    return response.status if response else 0


def _submit(page, *, prepare: str | None = None, lang: str = "vi") -> int:
    """Send the open form (after an optional script that breaks it); the resulting status."""
    if prepare:
        page.evaluate(prepare)
    if lang == "en":  # the action carries the language, so even a refused body answers in English
        page.evaluate("() => { const f = document.querySelector('form[method=post]'); f.action += '?lang=en'; }")
    with page.expect_navigation() as navigation:
        page.locator("button[type=submit]").click()
    return navigation.value.status if navigation.value else 0


class Codes:
    """Codes in every state a citizen can meet."""

    def __init__(self, app) -> None:
        self.app = app
        self.fresh = iter(issue_codes(app, count=16))
        answered, voided, expired = issue_codes(app, count=3)
        with app.app_context():
            records = {code: codes.find(code) for code in (answered, voided, expired)}
            codes.void_codes([records[voided]], actor="test")
            record = db.session.get(SurveyCode, records[expired].id)
            record.expires_at = record.issued_at
            db.session.commit()
            unknown = codes.new_code()
        self.answered, self.voided, self.expired, self.unknown = answered, voided, expired, unknown
        fresh = next(self.fresh)  # another check symbol: one in 32 codes already ends in "0"
        self.mistyped = fresh[:-1] + ("1" if fresh[-1] == "0" else "0")
        client = app.test_client()
        from tests.support import csrf_token

        token = csrf_token(client.get(f"/s/{answered}").get_data(as_text=True))
        assert client.post(f"/s/{answered}", data={**full_answers(), "csrf_token": token}).status_code == 303

    def new(self) -> str:
        return next(self.fresh)


def _pages(base: str, state: Codes):
    """(name, expected status, visit) for every public page."""

    def get(url):
        return lambda page, lang: _goto(page, _with_lang(base + url, lang))

    def form_then(prepare: str | None):
        def visit(page, lang):
            assert _goto(page, _with_lang(f"{base}/s/{state.new()}", lang)) == 200
            if prepare == "invalid":  # moving on without the required general question
                return _submit(page, lang=lang)
            return _submit(page, prepare=prepare, lang=lang)
        return visit

    def thanks(page, lang):
        assert _goto(page, _with_lang(f"{base}/s/{state.new()}", lang)) == 200
        answer_in_steps(page, {"HL": "4"})
        assert "/thanks" in page.url
        return 200

    def rate_limited(page, lang):
        for _ in range(40):
            page.request.get(f"{base}/s/{state.unknown}")
        return _goto(page, _with_lang(f"{base}/s/{state.unknown}", lang))

    return [
        ("form", 200, get(f"/s/{state.new()}")),
        ("enter code", 200, get("/s")),
        ("404 unknown code", 404, get(f"/s/{state.unknown}")),
        ("404 check failure", 404, get(f"/s/{state.mistyped}")),
        ("404 unknown page", 404, get("/no-such-page")),
        ("409 already answered", 409, get(f"/s/{state.answered}")),
        ("410 expired", 410, get(f"/s/{state.expired}")),
        ("410 voided", 410, get(f"/s/{state.voided}")),
        ("400 validation error", 400, form_then("invalid")),
        ("400 CSRF", 400, form_then("() => { document.querySelector('input[name=csrf_token]').value = 'x'; }")),
        ("413 too large", 413, form_then("() => { document.querySelector('input[name=lang]')"
                                         ".value = 'x'.repeat(70000); }")),
        ("thank you", 200, thanks),
        ("429 too many attempts", 429, rate_limited),
    ]


def test_public_pages_have_no_serious_accessibility_violations(app, live_server, screen, axe_js, subtests):
    state = Codes(app)
    checked = []
    for lang in ("vi", "en"):
        for name, status, visit in _pages(live_server, state):
            with subtests.test(page=name, lang=lang):
                _reset_rate_limits()
                got = visit(screen, lang)
                assert got == status, f"{name} ({lang}): expected {status}, got {got} at {screen.url}"
                assert screen.locator("html").get_attribute("lang") == lang, f"{name}: page language"
                violations = blocking_violations(screen, axe_js)
                assert not violations, f"{name} ({lang}) at {screen.url}:\n{describe(violations)}"
                checked.append((name, lang))
    assert len(checked) == 26
