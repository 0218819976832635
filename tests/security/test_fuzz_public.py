"""Property-based fuzzing of the citizen's pages: the form POST /s/<code> and the code in the
path. Whatever arrives, nothing answers 5xx, and a refused submission stores nothing."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

import questionnaires
from survey_app.extensions import db
from survey_app.models import SurveyCode
from tests.security.hostile import FUZZ, assert_no_server_error, counts, digest
from tests.support import csrf_token, full_answers, issue_codes

Q = questionnaires.load("sipas-2023")
KNOWN_FIELDS = [*Q.answer_columns, *(c.code for c in Q.choice_questions), "comment", "website", "lang",
                "csrf_token"]
SCRIPT = "<script>alert('sipas')</script>"
ODD_VALUES = [
    "", " ", "1", "5", "6", "0", "-1", "+3", "4.5", "1e2", " 3 ", "03", "0003", "٣", "²", "４", "Ⅳ", "NaN",
    "co", "khong", "nu", "60+", "ca_nhan", "null", "[]", "{}", "true", "\x00", "3\x00", "\u202e4", "\ufeff4",
    "' OR '1'='1", "1; DROP TABLE responses; --", SCRIPT, "\"><img src=x onerror=alert(1)>", "{{7*7}}",
    "\ud7ff", "\U0001f600" * 3, "a\r\nb", "x" * 2001,
]
field_names = st.one_of(st.sampled_from(KNOWN_FIELDS), st.text(max_size=40))
values = st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=300),
                   st.text(alphabet=st.characters(codec="utf-8"), min_size=500, max_size=5000))
# A field may come more than once (a list), which a browser never sends for these names.
field_values = st.one_of(values, st.lists(values, min_size=2, max_size=4))
forms = st.dictionaries(field_names, field_values, max_size=40)
tokens = st.sampled_from(["valid", "missing", "garbage", "empty"])


class Target:
    """A usable single-use code and a CSRF token of the client's session; a new code once
    a submission was accepted."""

    def __init__(self, app, client) -> None:
        self.app, self.client = app, client
        self.renew()

    def renew(self) -> None:
        [self.code] = issue_codes(self.app)
        page = self.client.get(f"/s/{self.code}")
        self.token = csrf_token(page.get_data(as_text=True))

    def status(self) -> str:
        from survey_app.services.codes import code_hash, parse

        with self.app.app_context():
            return db.session.scalar(select(SurveyCode.status).filter_by(code_hash=code_hash(parse(self.code))))


@pytest.fixture
def target(app) -> Target:
    """One per test, shared by its examples (a fixture outlives hypothesis' examples)."""
    return Target(app, app.test_client())


def _token(kind: str, target: Target) -> dict[str, str]:
    return {"valid": {"csrf_token": target.token}, "missing": {}, "garbage": {"csrf_token": "x" * 40},
            "empty": {"csrf_token": ""}}[kind]


def _check_submission(app, target: Target, response, before: dict[str, int]) -> None:
    assert_no_server_error(response, "POST /s/<code>")
    after = counts(app)
    if response.status_code == 303:
        assert after["responses"] == before["responses"] + 1
        assert after["comments"] - before["comments"] in (0, 1)
        assert target.status() == "answered"
        target.renew()
        return
    assert response.status_code in (400, 413, 429), response.status_code
    assert after == before, "a refused submission stored something"
    assert target.status() == "issued", "a refused submission burned the code"
    html = response.get_data(as_text=True)
    assert SCRIPT not in html and "onerror=alert(1)>" not in html, "a payload came back unescaped"


@FUZZ
@given(form=forms, start_complete=st.booleans(), token=tokens)
def test_random_forms_never_fail_and_refusals_store_nothing(app, target, form, start_complete, token):
    data = {**(full_answers() if start_complete else {}), **form, **_token(token, target)}
    before = counts(app)
    response = target.client.post(f"/s/{target.code}", data=data)
    _check_submission(app, target, response, before)


@FUZZ
@given(body=st.binary(max_size=3000), content_type=st.one_of(st.sampled_from([
    "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=utf-16", "application/x-www-form-urlencoded; charset=bogus",
    "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=xyz",
    "text/plain", "application/json", "application/octet-stream", "", "text/html; charset=utf-7",
]), st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=60)), token_in_header=st.booleans())
def test_raw_bodies_in_any_encoding_never_fail(app, target, body, content_type, token_in_header):
    headers = {"X-CSRFToken": target.token} if token_in_header else {}
    before = counts(app)
    response = target.client.post(f"/s/{target.code}", data=body, headers={**headers, "Content-Type": content_type})
    _check_submission(app, target, response, before)


MULTIPART = "multipart/form-data; boundary=B"
NASTY_BODIES = [
    ("application/x-www-form-urlencoded", b"HL=%ff%fe&comment=%c3%28&TC1=%e2%82"),
    ("application/x-www-form-urlencoded", b"HL=4&comment=\xff\xfe\xfd"),
    ("application/x-www-form-urlencoded", b"HL=4&comment=caf\xe9"),
    ("application/x-www-form-urlencoded; charset=utf-16", "HL=4&comment=chào".encode("utf-16")),
    ("application/x-www-form-urlencoded", b"%00=%00&HL%00=4"),
    ("application/x-www-form-urlencoded", b"&&&===&HL&HL=&=4"),
    (MULTIPART, b"--B\r\nContent-Disposition: form-data; name=\"HL\"\r\n\r\n4\r\n"),
    (MULTIPART, b"--B\r\nContent-Disposition: form-data; name=\"comment\"; "
                b"filename=\"../../etc/passwd\"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B--\r\n"),
    (MULTIPART, b"--B\r\nContent-Disposition: form-data; name*=UTF-8''%ff\r\n\r\n4\r\n--B--\r\n"),
]


def test_invalid_utf8_and_broken_multipart(app, target):
    for content_type, body in NASTY_BODIES:
        for with_token in (True, False):
            headers = {"Content-Type": content_type, **({"X-CSRFToken": target.token} if with_token else {})}
            before = counts(app)
            response = target.client.post(f"/s/{target.code}", data=body, headers=headers)
            _check_submission(app, target, response, before)


def test_thousands_of_fields_and_huge_values(app, target):
    cases = [
        # 5,000 fields, under the 64 KB limit: parsed, then refused by validation (no HL).
        ("application/x-www-form-urlencoded", "&".join(f"f{i}=1" for i in range(5000)).encode()),
        # Many repeats of one field.
        ("application/x-www-form-urlencoded", ("HL=4&" * 5000).encode()),
        # 2,000 multipart parts: over Werkzeug's part limit.
        (MULTIPART, b"".join(b"--B\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n1\r\n" % i
                             for i in range(2000)) + b"--B--\r\n"),
        # One value just under and one far over the body limit.
        ("application/x-www-form-urlencoded", urlencode({"HL": "4", "comment": "x" * 60_000}).encode()),
        ("application/x-www-form-urlencoded", urlencode({"HL": "4", "comment": "x" * 200_000}).encode()),
        ("application/x-www-form-urlencoded", b"HL=4&" + b"x" * 10_000_000),
    ]
    for content_type, body in cases:
        before = counts(app)
        response = target.client.post(f"/s/{target.code}", data=body,
                                      headers={"Content-Type": content_type, "X-CSRFToken": target.token})
        _check_submission(app, target, response, before)
        if len(body) > 64 * 1024:
            assert response.status_code == 413, (len(body), response.status_code)


def test_a_valid_answer_with_a_multi_valued_field_is_stored_once(app, target):
    """Repeated fields take the first value, like a browser's radio group would send."""
    before = counts(app)
    data = {**full_answers(), "HL": ["5", "1"], "csrf_token": target.token}
    response = target.client.post(f"/s/{target.code}", data=data)
    _check_submission(app, target, response, before)
    assert response.status_code == 303


# 308: Werkzeug's redirect of /s// (an encoded slash) to /s/.
PATH_STATUSES = (200, 303, 308, 400, 404, 405, 409, 410, 429)


def _same_site(response) -> None:
    location = response.headers.get("Location")
    if location:
        assert location.startswith(("/", "http://localhost/")), f"redirect off site: {location}"


code_texts = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZOILoil -_.", min_size=10, max_size=20),
    st.sampled_from(["' OR '1'='1", "1 UNION SELECT code_hash FROM survey_codes--", SCRIPT, "..", "%2e%2e",
                     "..%2f..%2fetc%2fpasswd", "\x00", "ABCD-EFGH-JKMN-P\x00", "a" * 5000]),
)


@FUZZ
@given(code=code_texts, method=st.sampled_from(["GET", "POST"]), lang=st.sampled_from(["", "vi", "en", "xx"]))
def test_any_code_in_the_path_or_the_box_never_fails(app, code, method, lang):
    client = app.test_client()
    before = digest(app)
    quoted = quote(code, safe="")
    for url, verb in ((f"/s/{quoted}?lang={lang}", method), (f"/S/{quoted}", method),
                      (f"/s?code={quoted}&lang={lang}", "GET")):
        response = client.open(url, method=verb)
        assert_no_server_error(response, f"{method} {url}")
        assert response.status_code in PATH_STATUSES, (url, response.status_code)
        _same_site(response)
        html = response.get_data(as_text=True)
        assert SCRIPT not in html, "the typed code came back unescaped"
    assert digest(app) == before


@FUZZ
@given(raw=st.binary(min_size=1, max_size=40))
def test_invalid_utf8_in_the_path_never_fails(app, raw):
    client = app.test_client()
    quoted = "".join(f"%{byte:02X}" for byte in raw)
    for url in (f"/s/{quoted}", f"/s?code={quoted}"):
        response = client.get(url)
        assert_no_server_error(response, url)
        assert response.status_code in PATH_STATUSES, (url, response.status_code)
        _same_site(response)
