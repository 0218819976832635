"""Glue between issued codes and the printing library (labels, slips, posters)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from flask import current_app

import questionnaires

from ..printing import Label, SlipWording, batch_pdf, poster_pdf, slip_pdf, slip_wording
from .codes import IssuedCode
from .timekeeping import local_date


def label_of(item: IssuedCode, lang: str = "vi") -> Label:
    return Label(
        code=item.code, url=item.url, unit=item.unit_name, procedure=item.procedure_name,
        expires_on=local_date(item.expires_at) if item.expires_at else None, lang=lang,
        minutes=questionnaires.load(*questionnaires.parse_key(item.questionnaire)).minutes,
    )


def batch_document(items: Sequence[IssuedCode], *, kind: str, lang: str = "vi") -> bytes:
    """Label sheets for single-use codes; one poster page per code for counter codes."""
    if not items:
        raise ValueError("no codes to print")
    if kind == "counter":
        if len(items) != 1:
            raise ValueError("count: a poster PDF holds one counter code; issue counter codes one at a time")
        return poster_pdf(label_of(items[0], lang))
    return batch_pdf([label_of(item, lang) for item in items], title=f"sipas — {items[0].unit_name}")


def slip_document(item: IssuedCode, *, size: Literal["80mm", "A6"] = "80mm", lang: str = "vi") -> bytes:
    return slip_pdf(label_of(item, lang), size=size, ttl_days=current_app.config["SIPAS_CODE_TTL_DAYS"])


def slip_texts(item: IssuedCode, *, lang: str = "vi") -> SlipWording:
    """The words of the printed slip, for the HTML slip (the PDF slip says the same)."""
    label = label_of(item, lang)
    return slip_wording(lang, ttl_days=current_app.config["SIPAS_CODE_TTL_DAYS"], expires_on=label.expires_on,
                        display_url=label.display_url, minutes=label.minutes)
