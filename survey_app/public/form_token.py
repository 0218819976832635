"""The survey form's CSRF token: an HMAC of the code, so the citizen's pages set no cookie.

Flask-WTF binds its token to a random value in the session cookie. On the survey form that
buys nothing over binding it to the code: the form is anonymous, so a cross-site page that
makes a browser post it gains no authority the attacker lacks (whoever knows the code can
answer it), and cookies are what in-app browsers (Zalo) and old WebViews lose between the
GET and the POST, turning a finished questionnaire into "reload the page". Binding the token
to the code also spares every survey request the session cookie's signing and compression.

Browsers that send ``Sec-Fetch-Site`` say whether a POST came from another site; such posts
are refused outright, so a foreign page cannot make visitors' browsers submit on its behalf.
"""

from __future__ import annotations

import base64
import hmac
from hashlib import sha256

from flask_wtf.csrf import CSRFError

from ..services.codes import app_key

FIELD = "csrf_token"


def issue(code_id: int) -> str:
    """The token the form for this code carries (the same on every request for it)."""
    return issue_for(b"code:%d" % code_id)


def check(code_id: int, token: str | None, fetch_site: str | None) -> None:
    """Raise CSRFError (a 400 telling the person to reload) unless ``token`` fits the code and
    the browser (its ``Sec-Fetch-Site`` header: ``fetch_site``) does not report the post as
    coming from another site."""
    check_for(b"code:%d" % code_id, token, fetch_site)


def issue_for(subject: bytes) -> str:
    """The token of a cookieless public form about ``subject`` (a code, a complaint's case)."""
    digest = hmac.new(app_key("survey-form-token"), subject, sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def check_for(subject: bytes, token: str | None, fetch_site: str | None) -> None:
    """:func:`check` for any subject of :func:`issue_for`."""
    if fetch_site == "cross-site":
        raise CSRFError("The form was sent from another site.")
    if not token or not hmac.compare_digest(token.encode(), issue_for(subject).encode()):
        raise CSRFError("The CSRF token is missing or does not fit this form.")
