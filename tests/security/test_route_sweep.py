"""Every route of app.url_map (so routes added later are swept too) tried by every identity,
with ordinary and with hostile arguments: nothing answers 5xx, a refusal leaks nothing and
changes nothing, and a session that should be dead is dead.

tests/app/test_access_matrix.py holds the exact who-gets-what table; this file checks what
must hold whatever the table says."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import url_for

from survey_app import create_app
from survey_app.extensions import db
from survey_app.models import User
from tests.security.hostile import (
    EXTREME_FORM,
    EXTREME_JSON,
    EXTREME_QUERIES,
    HOSTILE_SEGMENTS,
    HUGE_IDS,
    assert_no_server_error,
    digest,
    make_world,
    path_with,
    segment_names,
    signed_in,
)
from tests.support import ORG, PASSWORD, csrf_token, store_random_answers

PUBLIC_BLUEPRINTS = ("public", "kiosk", "feedback", "static")  # the citizen's and the counter tablet's pages
HOSTILE_QUERY = {
    "page": "-1", "per_page": "100000000", "from": "2024-13-45", "to": "0000-00-00", "period": "<script>x</script>",
    "unit": "' OR 1=1 --", "procedure": "\x00", "q": "%' OR '1'='1", "search": "\u202e" * 50, "format": "xlsx'",
    "by": "unit,unit,../../etc", "ci_method": "{{7*7}}", "lang": "xx", "questionnaire": "sipas-2023@-1",
    "channel": "both", "kind": "poster", "size": "A0", "next": "//evil.example/", "sort": "1;DROP TABLE users",
    "report_period": "9999-Q9", "autoprint": "1",
}
HOSTILE_FORM = {"unit": "OTHER", "procedure": "' OR 1=1 --", "questionnaire": "sipas-2023@99", "kind": "counter",
                "count": "-5", "code": "' OR '1'='1", "name": "<script>x</script>", "role": "admin",
                "username": "root", "active": "y", "scopes": "everything", "parent": "SEC"}


def _routes(app) -> list[tuple[str, str, object]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in PUBLIC_BLUEPRINTS or rule.endpoint == "staff.login":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule))
    return sorted(found, key=lambda item: item[0] == "staff.logout")  # logging out last


def _url(app, rule, values: dict[str, object], **query: str) -> str:
    args = {name: values.get(name, "csv" if name == "fmt" else 1) for name in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **args, **query)


def _is_refusal(response) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code in (401, 403) or (response.status_code == 302 and "/staff/login" in location)


def _request(client, method: str, url: str, token: str, *, hostile: bool, api_key: str | None = None):
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    if method == "GET":
        return client.get(url, headers=headers)
    if url.startswith("/api/"):
        return client.post(url, json={"unit": ORG.section, **({"kind": "<x>"} if hostile else {})}, headers=headers)
    return client.post(url, data={"csrf_token": token, **(HOSTILE_FORM if hostile else {})}, headers=headers)


def test_every_route_for_every_identity_never_fails_or_leaks(app, world):
    routes = _routes(app)
    assert len(routes) > 30 and any(endpoint.startswith("admin.") for endpoint, _, _ in routes)
    secret = world.code.encode()
    problems = []
    answered: dict[str, int] = {}
    # Refused identities first: what allowed requests change (voided batches) cannot hide a leak.
    for who in ("anonymous", "analyst", "otherstaff", "staff", "admin"):
        client, token = signed_in(app, who)
        for endpoint, method, rule in routes:
            for hostile in (False, True):
                url = _url(app, rule, world.values, **(HOSTILE_QUERY if hostile else {}))
                before = digest(app) if method == "POST" else None
                response = _request(client, method, url, token, hostile=hostile)
                what = f"{who} {method} {endpoint}{' (hostile)' if hostile else ''}"
                assert_no_server_error(response, what)
                answered[who] = answered.get(who, 0) + (response.status_code == 200)
                if who == "anonymous" and response.status_code == 200:
                    problems.append(f"{what}: 200 for an anonymous visitor")
                if _is_refusal(response):
                    if secret in response.get_data():
                        problems.append(f"{what}: the refusal shows the code")
                    if before is not None and digest(app) != before:
                        problems.append(f"{what}: refused, yet data changed")
                if who == "otherstaff" and secret in response.get_data():
                    problems.append(f"{what}: staff of another unit saw a code of {ORG.section}")
    assert not problems, "\n".join(problems)
    # The sweep reached real pages, not only refusals.
    assert answered["admin"] > 40 and answered["staff"] > 15, answered


def test_api_routes_with_bad_keys_are_401_and_store_nothing(app, world):
    routes = [(endpoint, method, rule) for endpoint, method, rule in _routes(app) if rule.rule.startswith("/api/")]
    assert routes
    client = app.test_client()
    before = digest(app)
    for key in (world.revoked_key, "sipas_abcdefgh_" + "0" * 43, world.sec_key + "x", world.sec_key[:-1], "",
                "' OR '1'='1", world.sec_key.upper()):
        for endpoint, method, rule in routes:
            for hostile in (False, True):
                url = _url(app, rule, world.values, **(HOSTILE_QUERY if hostile else {}))
                response = _request(client, method, url, "", hostile=hostile, api_key=key or "x")
                assert response.status_code == 401, f"{method} {endpoint} with key {key[:20]!r}: {response.status_code}"
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                assert response.get_json()["error"]["status"] == 401
                assert world.code.encode() not in response.get_data()
    assert digest(app) == before


def _every_rule(app) -> list[tuple[str, str, object]]:
    """Every rule and method of app.url_map, the public ones and the login too; logging out last."""
    found = [(rule.endpoint, method, rule) for rule in app.url_map.iter_rules()
             for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    return sorted(found, key=lambda item: item[0] == "staff.logout")


def _identities(app, world):
    """(name, client, CSRF token, headers) per role, and per API key for the API. The admin comes
    last: what it may do (revoke the key the key identity uses) must not hide anything."""
    yield "anonymous", *signed_in(app, "anonymous"), {}
    for name, key in (("key codes:issue", world.sec_key), ("key indices:read", world.indices_key)):
        yield name, app.test_client(), "", {"Authorization": f"Bearer {key}"}
    for who in ("analyst", "staff", "admin"):
        yield who, *signed_in(app, who), {}


def _send(client, method: str, url: str, token: str, headers: dict[str, str], body: bytes | None = None):
    if method == "GET":
        return client.get(url, headers=headers)
    if url.startswith("/api/"):
        return client.open(url, method=method, data=body or b'{"unit": "SEC"}', headers=headers,
                           content_type="application/json")
    return client.open(url, method=method, data={"csrf_token": token, **EXTREME_FORM}, headers=headers)


def _verdict(response, url: str, expect: int | None = None) -> str | None:
    """What is wrong with the answer to ``url`` (None: nothing)."""
    status, body = response.status_code, response.get_data()
    if status >= 500 or b"Traceback (most recent call last)" in body:
        return f"{status}: {body[:300]!r}"
    if expect is not None and status != expect:
        return f"{status}, expected {expect}"
    if url.startswith("/api/") and status >= 400:
        error = (response.get_json(silent=True) or {}).get("error") or {}
        if error.get("status") != status or not isinstance(error.get("message"), str):
            return f"{status} without the API's error shape: {body[:200]!r}"
    return None


def test_every_route_with_extreme_values_answers_4xx_never_5xx(backend_app):
    """Ids past BIGINT, absurd page numbers, dates at the ends of the calendar, huge numbers in
    JSON: on SQLite and PostgreSQL, for every identity, a 4xx (an id no row can have: 404), never 5xx."""
    app = backend_app
    world = make_world(app)
    store_random_answers(app, count=3, comment="Góp ý để có trang bình luận.")
    routes = _every_rule(app)
    problems: list[str] = []
    requests = 0
    for who, client, token, headers in _identities(app, world):
        for endpoint, method, rule in routes:
            if headers and not rule.rule.startswith("/api/"):
                continue
            int_names, text_names = segment_names(rule)
            attempts: list[tuple[str, bytes | None, int | None]] = [
                (path_with(rule, world.values, **{name: value}), None, 404)
                for name in int_names for value in HUGE_IDS]
            attempts += [(path_with(rule, world.values, **{name: value}), None, None)
                         for name in text_names for value in HOSTILE_SEGMENTS]
            base = path_with(rule, world.values)
            attempts += [(f"{base}?{urlencode(query)}", None, None) for query in EXTREME_QUERIES]
            if method == "POST" and base.startswith("/api/"):
                attempts += [(base, body, None) for body in EXTREME_JSON]
            for url, body, expect in attempts:
                requests += 1
                try:
                    problem = _verdict(_send(client, method, url, token, headers, body), url, expect)
                except Exception as exc:  # under TESTING an error outside the views reaches the client
                    problem = f"raised {type(exc).__name__}: {str(exc)[:200]}"
                if problem:
                    shown = url if len(url) < 120 else url[:100] + f"...({len(url)} characters)"
                    problems.append(f"{who} {method} {endpoint} {shown}{' ' + body[:80].decode() if body else ''}: "
                                    f"{problem}")
    assert requests > 2000, requests
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_dead_and_forged_sessions_are_anonymous(app, make_app, tmp_path):
    """A stolen cookie stops working when the password changes or the account is locked, and
    a cookie signed with another secret key never works."""
    stolen, _ = signed_in(app, "staff")
    assert stolen.get("/staff/").status_code == 200
    with app.app_context():
        user = db.session.query(User).filter_by(username="staff").one()
        from survey_app.services import users

        users.set_password(user, "a brand new password", actor="admin")
    assert stolen.get("/staff/").status_code == 302, "a password change must end other sessions"

    other, _ = signed_in(app, "otherstaff")
    with app.app_context():
        user = db.session.query(User).filter_by(username="otherstaff").one()
        user.active = False
        db.session.commit()
    assert other.get("/staff/").status_code == 302, "a locked account must end its sessions"

    # A cookie from a sipas with another secret key (same user ids) is not accepted.
    elsewhere = make_app(f"sqlite:///{tmp_path / 'elsewhere.sqlite'}", SIPAS_SECRET_KEY="someone-elses-key")
    from tests.support import seed_org

    with elsewhere.app_context():
        seed_org()
    forger = elsewhere.test_client()
    token = csrf_token(forger.get("/staff/login").get_data(as_text=True))
    assert forger.post("/staff/login", data={"username": "admin", "password": PASSWORD,
                                              "csrf_token": token}).status_code == 302
    victim = app.test_client()
    victim.set_cookie("session", _session_cookie(forger))
    assert victim.get("/staff/").status_code == 302
    assert victim.get("/admin/units").status_code == 302
    for junk in ("x", "e30.AAAA.BBBB", ".eJwrSS0uSSwqzUvOTQUAHZ0Etg.AAAA.BBBB", "\x00" * 10):
        victim.set_cookie("session", junk)
        response = victim.get("/staff/")
        assert_no_server_error(response, f"session cookie {junk!r}")
        assert response.status_code == 302


def test_create_app_with_the_same_key_reads_the_same_sessions(app):
    """The other side of the previous test: several processes with one SIPAS_SECRET_KEY share
    sessions (docs/deploy.md relies on it)."""
    client, _ = signed_in(app, "admin")
    twin = create_app({**{k: app.config[k] for k in ("TESTING", "SIPAS_DATA_DIR", "SIPAS_DATABASE_URL")},
                       "SIPAS_SECRET_KEY": app.config["SECRET_KEY"], "SIPAS_PASSWORD_HASH": "scrypt:1024:8:1"})
    other = twin.test_client()
    other.set_cookie("session", _session_cookie(client))
    assert other.get("/admin/units").status_code == 200
    with twin.app_context():
        db.session.remove()
        db.engine.dispose()
