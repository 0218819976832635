"""Oversized bodies are refused with a clear page (413) before anything is stored; path
tricks never serve a file from outside the static folder; download names stay ours."""

from __future__ import annotations

import io

import pytest

from tests.security.hostile import assert_no_server_error, counts, digest, signed_in
from tests.support import full_answers

# Text that only the app's own files hold: if a response contains one, a file leaked.
FILE_MARKERS = (b"SIPAS_DATA_DIR", b"def create_app", b"root:x:0:0", b"[project]", b"SECRET_KEY", b"import ")
TRICKS = [
    "/static/../survey_app/config.py", "/static/../config.py", "/static/%2e%2e/config.py", "/static/%2e%2e%2fconfig.py",
    "/static/..%2fconfig.py", "/static/..%2f..%2fpyproject.toml", "/static/css/..%2f..%2f__init__.py",
    "/static/%2e%2e/%2e%2e/survey_app/config.py", "/static/%252e%252e/config.py", "/static/..%5cconfig.py",
    "/static/..\\config.py", "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/static/css/public.css%00.py",
    "/static/css/../../config.py", "/static/./../web.py", "/static/%c0%ae%c0%ae/config.py", "/../survey_app/config.py",
    "/s/..%2f..%2fsurvey_app%2fconfig.py", "/staff/batches/1.pdf/../../../config.py", "/staff/slip/..%2f1.pdf",
    "/analyst/download/responses.csv%2f..%2f..%2fconfig.py", "/analyst/download/..%2f..%2fconfig.py",
    "/analyst/download/report.%2e%2e%2fconfig", "/api/v1/codes/..%2f..%2fconfig.py/qr.svg", "/thanks/../config.py",
]


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_path_tricks_serve_no_file(app, who):
    client, _ = signed_in(app, who)
    for path in TRICKS:
        response = client.get(path)
        assert_no_server_error(response, path)
        body = response.get_data()
        assert not any(marker in body for marker in FILE_MARKERS), f"{path} served a file's contents"
        assert response.status_code in (302, 308, 400, 401, 403, 404), (path, response.status_code)
    # The real files are still served (the tricks were refused, not every static file).
    assert client.get("/static/css/public.css").status_code == 200


def test_download_names_stay_ours(app, world):
    client, _ = signed_in(app, "admin")
    response = client.get("/staff/rates?format=csv&period=" + "..%2F..%2Fetc%2Fpasswd%0D%0ASet-Cookie:%20a=b")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="sipas-ty-le-phan-hoi-month.csv"'
    assert not any("a=b" in cookie for cookie in response.headers.getlist("Set-Cookie"))
    for url in (f"/staff/batches/{world.batch_id}.pdf", f"/staff/slip/{world.code_id}.pdf"):
        pdf = client.get(url)
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        name = pdf.headers["Content-Disposition"]
        assert "/" not in name and ".." not in name and "\\" not in name


def test_oversized_survey_submission_is_413_with_a_clear_page(app, world):
    client = app.test_client()
    before = counts(app)
    for lang, words in (("vi", "quá lớn"), ("en", "too large")):
        response = client.post(f"/s/{world.code}?lang={lang}", data={**full_answers(comment="x" * 70_000)})
        assert response.status_code == 413
        html = response.get_data(as_text=True)
        assert response.mimetype == "text/html" and words in html.lower()
    assert counts(app) == before


def test_oversized_catalogue_upload_is_413_on_the_import_page(app):
    client, token = signed_in(app, "admin")
    before = digest(app)
    limit = app.config["SIPAS_MAX_UPLOAD_BYTES"]
    for size in (limit + 1, limit + 2 * 1024 * 1024):  # over the import limit; over the whole app's limit too
        data = b"code,name,field\n" + b"1.000009,x,y\n" * (size // 13 + 1)
        response = client.post("/admin/procedures/import", data={
            "csrf_token": token, "file": (io.BytesIO(data), "big.csv")}, content_type="multipart/form-data")
        html = response.get_data(as_text=True)
        assert response.status_code == 413, size
        assert "Tệp lớn hơn giới hạn" in html or "quá lớn" in html, html[:500]
    assert digest(app) == before


def test_oversized_api_body_is_a_json_413(app, world):
    client = app.test_client()
    before = counts(app)
    response = client.post("/api/v1/codes", data=b'{"unit": "' + b"x" * 100_000 + b'"}',
                           headers={"Content-Type": "application/json", "Authorization": f"Bearer {world.sec_key}"})
    assert response.status_code == 413 and response.get_json()["error"]["status"] == 413
    assert counts(app) == before


def test_oversized_staff_form_is_refused(app):
    client, token = signed_in(app, "staff")
    before = digest(app)
    response = client.post("/staff/codes/void", data={"csrf_token": token, "code": "x" * (6 * 1024 * 1024)})
    assert_no_server_error(response, "huge staff form")
    assert response.status_code == 413
    assert digest(app) == before
