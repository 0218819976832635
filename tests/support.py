"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import random
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from survey_app.cli import main_group

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct horse battery"

# SIPAS_* variables that configure the tests themselves, not a sipas installation.
TEST_ONLY_VARIABLES = frozenset({"SIPAS_TEST_POSTGRES_URL", "SIPAS_AXE_JS"})


def hermetic_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) without the operator's ``SIPAS_*`` settings.

    A shell on a server holds the service's database URL, data directory, public URL and plan
    file; a test that read them would write into that installation. Subprocesses the tests
    start get this environment, never ``os.environ`` as the shell had it.
    """
    source = os.environ if environ is None else environ
    return {name: value for name, value in source.items()
            if not name.startswith("SIPAS_") or name in TEST_ONLY_VARIABLES}


def require(condition: bool, reason: str) -> None:
    """Skip when a tool or service is missing on a developer machine; fail under CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: nothing may be skipped for a missing tool or database)")
    pytest.skip(reason)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"{name} is not installed")
    return path or name


def cli_runner(app: Flask):
    """Invoke the ``sipas`` group as the console script would, on ``app``."""

    class Runner:
        def invoke(self, args, **kwargs):
            return CliRunner().invoke(
                main_group, args, obj=ScriptInfo(create_app=lambda: app), catch_exceptions=False, **kwargs
            )

    return Runner()



@dataclass(frozen=True)
class Org:
    department: str = "DEPT"
    section: str = "SEC"
    other_section: str = "OTHER"
    counter: str = "SEC-Q1"
    procedure: str = "1.000001"


ORG = Org()


def seed_org() -> None:
    """DEPT > SEC > SEC-Q1, DEPT > OTHER; one procedure; one user per role."""
    from survey_app.services import catalog, users

    catalog.add_unit(ORG.department, "Sở Thử nghiệm")
    catalog.add_unit(ORG.section, "Phòng Lãnh sự", parent=ORG.department)
    catalog.add_unit(ORG.other_section, "Phòng Hợp tác quốc tế", parent=ORG.department)
    catalog.add_unit(ORG.counter, "Quầy 1", parent=ORG.section)
    catalog.add_procedure(ORG.procedure, "Hợp pháp hóa lãnh sự giấy tờ", field="Lãnh sự")
    users.add_user("admin", PASSWORD, "admin")
    users.add_user("analyst", PASSWORD, "analyst")
    users.add_user("staff", PASSWORD, "staff", unit=ORG.section)
    users.add_user("otherstaff", PASSWORD, "staff", unit=ORG.other_section)


def issue_codes(app: Flask, *, kind: str = "single", count: int = 1, unit: str = ORG.section,
                procedure: str | None = ORG.procedure, questionnaire: str = "sipas-2023") -> list[str]:
    from survey_app.services import catalog, codes

    with app.app_context():
        unit_obj = catalog.unit_by_code(unit)
        procedure_obj = catalog.procedure_by_code(procedure) if procedure else None
        _, issued = codes.issue(unit=unit_obj, procedure=procedure_obj, questionnaire=questionnaire,
                                kind=kind, count=count, actor="test")
    return [item.code for item in issued]


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def full_answers(**overrides: str) -> dict[str, str]:
    """A complete, valid sipas-2023 submission (everyone satisfied, gave feedback)."""
    import questionnaires

    q = questionnaires.load("sipas-2023")
    data = {code: "4" for code in q.answer_columns}
    for item in q.expectations:
        data[item.code] = "2"
    data.update(feedback_given="co", respondent_type="ca_nhan", gender="nu", age_group="35-49",
                comment="Cán bộ nhiệt tình.")
    data.update(overrides)
    return data


class Auth:
    def __init__(self, client) -> None:
        self.client = client

    def login(self, username: str = "admin", password: str = PASSWORD):
        page = self.client.get("/staff/login")
        return self.client.post("/staff/login", data={
            "username": username, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True)),
        })

    def logout(self):
        page = self.client.get("/staff/")
        return self.client.post("/staff/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def store_random_answers(app, *, unit=ORG.section, count=1, seed=0, comment="", **fixed):
    """Store ``count`` random but valid sipas-2023 answers (through the same services as
    the public form, which tests/app/test_public_flow.py drives over HTTP)."""
    import questionnaires
    from survey_app.services import codes as code_service
    from survey_app.services import responses

    rng = random.Random(seed)
    q = questionnaires.load("sipas-2023")
    for code in issue_codes(app, unit=unit, count=count):
        data = full_answers(comment=comment)
        for c in q.criteria:
            data[c.code] = str(rng.choice([1, 2, 3, 4, 4, 5, 5, ""]) or "")
        data["HL"] = str(rng.choice([2, 3, 4, 5]))
        data["feedback_given"] = rng.choice(["co", "khong"])
        data.update(fixed)
        with app.app_context():
            submission = responses.validate(q, data)
            assert isinstance(submission, responses.Submission), submission
            responses.store(code_service.find(code), q, submission)


def answer_over_http(port: int, code: str, **overrides: str) -> None:
    """A citizen's survey against a server on this machine: the form, then a complete answer (303)."""
    import http.client
    import urllib.parse

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", f"/s/{code}")
        page = conn.getresponse().read().decode()
        body = urllib.parse.urlencode({**full_answers(**overrides), "csrf_token": csrf_token(page)})
        conn.request("POST", f"/s/{code}", body, {"Content-Type": "application/x-www-form-urlencoded"})
        assert conn.getresponse().status == 303
    finally:
        conn.close()


def form_steps(client, code: str, lang: str | None = None) -> list[str]:
    """Every step of the survey form for ``code`` through Flask's test client (moving on
    with "next", only the required general question answered)."""
    html = client.get(f"/s/{code}" + (f"?lang={lang}" if lang else "")).get_data(as_text=True)
    pages = [html]
    while 'id="next"' in html:
        step = re.search(r'name="step" value="(\d+)"', html)[1]
        html = client.post(f"/s/{code}", data={"csrf_token": csrf_token(html), "step": step, "go": "next",
                                                 "HL": "4", "lang": lang or "vi"}).get_data(as_text=True)
        pages.append(html)
    return pages


def answer_in_steps(page, taps: Mapping[str, str], *, selects: Mapping[str, str] | None = None,
                    comment: str | None = None, max_steps: int = 20, on_step=None, send: bool = True) -> int:
    """A citizen in a real browser: on each step tap the given answers it shows (a condition
    first, so the questions it opens are visible), choose the given drop-downs, write the
    comment, then "Tiếp tục" — "Gửi" on the last step (not pressed when ``send`` is false).
    Returns the steps seen."""
    for seen in range(1, max_steps + 1):
        if on_step is not None:
            on_step(page)
        for _ in range(2):  # a tapped condition shows more questions: a second pass answers them
            for name, value in taps.items():
                box = page.locator(f'input[name="{name}"][value="{value}"]')
                if box.count() and box.first.is_visible() and not box.first.is_checked():
                    box.first.click()  # a tap on a phone's touch screen, a click elsewhere
        for name, value in (selects or {}).items():
            if page.locator(f'select[name="{name}"]').count():
                page.select_option(f'select[name="{name}"]', value)
        if comment is not None and page.locator('textarea[name="comment"]').count():
            page.fill('textarea[name="comment"]', comment)
        button = page.locator("#next") if page.locator("#next").count() else page.locator("#send")
        if not send and not page.locator("#next").count():
            return seen
        with page.expect_navigation():
            button.click()
        if not page.locator('input[name="step"]').count():
            return seen
    raise AssertionError(f"the form did not end within {max_steps} steps")
