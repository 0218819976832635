"""No log sipas writes holds a client address or a survey code (issue 13): gunicorn's error
log on invalid requests, and the app's own log of an exception on a citizen's page."""

from __future__ import annotations

import logging
import socket

import pytest

from survey_app.logs import redact
from tests.support import issue_codes

CODE = "ABCD-EFGH-JKMN-P"


@pytest.mark.parametrize("line, kept", [
    (f"Invalid request from ip=203.0.113.9: Invalid HTTP Version 'GET /s/{CODE} HTTP/9'", "Invalid HTTP Version"),
    (f"Error handling request GET /S/{CODE.lower()}?lang=en", "Error handling request GET /S/"),
    (f"Exception on /s/{CODE} [POST]", "[POST]"),
    ("Invalid request from ip=::ffff:10.0.0.7: Invalid Request Line 'x'", "Invalid Request Line"),
    ("connection from [2001:db8::1]:51234 reset", "reset"),
    ("peer 192.168.1.20:443 timed out", "timed out"),
])
def test_addresses_and_codes_are_redacted(line, kept):
    out = redact(line)
    assert kept in out
    for secret in (CODE, CODE.lower(), "203.0.113.9", "10.0.0.7", "2001:db8::1", "192.168.1.20"):
        assert secret not in out


@pytest.mark.parametrize("line", ["Booting worker with pid: 1234", "Worker exiting (pid: 12)",
                                  "GET /staff/rates 200", "dashboard snapshot 2026-12.frame unreadable"])
def test_ordinary_lines_are_kept(line):
    assert redact(line) == line


def test_the_apps_exception_log_names_no_code(app, monkeypatch, caplog):
    from survey_app.services import codes

    [code] = issue_codes(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(codes, "lookup", broken)
    caplog.set_level(logging.ERROR)
    assert app.test_client().get(f"/s/{code}").status_code == 500
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "error on GET /s/…" in logged and code not in logged and code.replace("-", "") not in logged


@pytest.mark.slow
def test_the_servers_error_log_names_no_address_or_code(tmp_path):
    from benchmarks.load.server import Server, fresh_site, prepare

    with fresh_site("sqlite", tmp_path) as site:
        prepare(site, 1)
        with Server(site, workers=1, threads=2) as server:
            server.start()
            for raw in (f"GET /s/{CODE} HTTP/9.9\r\n\r\n", f"GET /s/{CODE} HTTP/1.1\r\nBad Header\r\n\r\n",
                        f"BREW /s/{CODE}\r\n\r\n"):
                with socket.create_connection(("127.0.0.1", site.port), timeout=10) as conn:
                    conn.sendall(raw.encode())
                    assert conn.recv(200).startswith(b"HTTP/1.1 4"), raw
            server.stop()
        log = server.log_path.read_text(errors="replace")
    assert "Invalid request" in log, log[-2000:]  # the lines were written, redacted
    assert "127.0.0.1:" not in log.replace(f"http://127.0.0.1:{site.port}", "")
    assert "ip=127.0.0.1" not in log and CODE not in log


def test_the_documented_proxy_log_holds_no_address_and_no_code():
    """docs/deploy.md's nginx access log: no client address, and /s/ paths replaced."""
    import re
    from pathlib import Path

    deploy = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
    (log_format,) = re.findall(r"^log_format sipas (.+);$", deploy, re.M)
    for leaking in ("$remote_addr", "$http_x_forwarded_for", "$request ", "$request\"", "$request_uri", "$uri",
                    "$args", "$query_string", "$http_referer"):
        assert leaking not in log_format, leaking
    mapping = re.search(r"map \$uri \$sipas_logged_uri \{(.+?)\}", deploy, re.S).group(1)
    assert re.search(r"~\^/\[sS\]/\s+\"/s/…\";", mapping) and "$sipas_logged_uri" in log_format
    assert re.search(r"error_log \S+ crit;", deploy)
