"""What sipas's own logs may hold: never a client address, never a survey code.

gunicorn's error log names the peer on invalid requests ("Invalid request from ip=...") and
the request line on errors ("Error handling request GET /s/ABCD-..."), which holds a code: who
reads the log could answer a citizen's open code and date an answer. Every record of the
server's logs goes through :class:`Redacting` before it is written.
"""

from __future__ import annotations

import logging
import re

# A survey path (/s/ or /S/ and what follows, up to a space or quote) and an IPv4 or IPv6
# address with an optional port; an "ip=" field whatever it holds.
_CODE_PATH = re.compile(r"(/[sS]/)[^\s'\"?]+")
# A survey code or a feedback case's number anywhere (a query string, a form): whoever
# reads the log could otherwise answer the code or rate the case.
_CODE = re.compile(r"(?<![\w-])(?:[0-9A-Za-z]{4}-){3}[0-9A-Za-z](?![\w-])")
_CASE = re.compile(r"(?<![\w-])PA-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}(?![\w-])", re.IGNORECASE)
_IP_FIELD = re.compile(r"\bip=\S*?(?=[:,\s]|$)")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])\[?(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}\]?(?::\d+)?(?![\w:])")


def redact(text: str) -> str:
    """
    >>> redact("Invalid request from ip=203.0.113.9: Invalid HTTP Version 'GET /s/ABCD-EFGH-JKMN-P HTTP/9'")
    "Invalid request from ip=…: Invalid HTTP Version 'GET /s/… HTTP/9'"
    >>> redact("GET /s?code=abcd-efgh-jkmn-p and /pa/PA-7K3F-9Q2M")
    'GET /s?code=… and /pa/PA-…'
    >>> redact("peer [2001:db8::1]:443 and 10.0.0.7:8000 at /staff/")
    'peer … and … at /staff/'
    """
    text = _IP_FIELD.sub("ip=…", text)
    text = _CODE_PATH.sub(r"\1…", text)
    text = _CASE.sub("PA-…", _CODE.sub("…", text))
    text = _IPV6.sub("…", text)
    return _IPV4.sub("…", text)


class Redacting(logging.Filter):
    """Rewrites each record's message (and its traceback text) through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def private(logger: logging.Logger) -> logging.Logger:
    """``logger`` with :class:`Redacting` (once) on the records it creates."""
    if not any(isinstance(f, Redacting) for f in logger.filters):
        logger.addFilter(Redacting())
    return logger
