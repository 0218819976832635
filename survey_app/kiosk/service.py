"""Kiosks: create and pair a counter tablet, send it a code, let it pick the code up.

A clerk's screen creates a kiosk for the unit and shows a six-digit pairing code, valid for
PAIRING_MINUTES; the tablet types it once and receives a random device key (its cookie;
only a keyed hash is stored). From then on, a clerk of the unit presses one button after
handing back a dossier: a fresh single-use code is issued (source ``kiosk``, grouped per
clerk and day like slips) and waits for the kiosk, which opens the questionnaire for it at
its next look (every few seconds) and forgets the link as it does.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from hashlib import sha256

from sqlalchemy import select

from ..database import questionnaire_version
from ..extensions import db
from ..models import Procedure, SurveyCode, Unit, utcnow
from ..services import audit, codes
from .model import Kiosk

PAIRING_MINUTES = 15
PAIRING_DIGITS = 6
DEFAULT_QUESTIONNAIRE = "tt01-counter"  # the one-minute rating: a counter is not the place for 30 questions


class KioskError(ValueError):
    """A refusal a person reads (Vietnamese)."""


def _hash(purpose: str, secret: str) -> str:
    return hmac.new(codes.app_key(f"kiosk-{purpose}"), secret.encode(), sha256).hexdigest()


def _new_pairing(kiosk: Kiosk, now: dt.datetime) -> str:
    digits = "".join(secrets.choice("0123456789") for _ in range(PAIRING_DIGITS))
    kiosk.pairing_hash = _hash("pairing", digits)
    kiosk.pairing_expires_at = now + dt.timedelta(minutes=PAIRING_MINUTES)
    return digits


def create(*, unit: Unit, name: str, actor: str, questionnaire: str = DEFAULT_QUESTIONNAIRE) -> tuple[Kiosk, str]:
    """A new kiosk of ``unit`` and its pairing code (shown once, on the clerk's screen)."""
    name = " ".join(name.split())[:100]
    if not name:
        raise KioskError("Hãy đặt tên cho máy tính bảng, ví dụ \u201cQuầy 1\u201d.")
    questionnaire_version(questionnaire)  # refuses an unknown questionnaire here, not at the counter
    now = utcnow()
    kiosk = Kiosk(unit=unit, name=name, questionnaire=questionnaire, created_by=actor, created_at=now)
    digits = _new_pairing(kiosk, now)
    db.session.add(kiosk)
    audit.record(actor, "kiosk.create", unit.code, name=name, questionnaire=questionnaire)
    db.session.commit()
    return kiosk, digits


def repair(kiosk: Kiosk, *, actor: str) -> str:
    """A new pairing code; the tablet paired before stops working (a lost or replaced tablet)."""
    now = utcnow()
    kiosk.key_hash, kiosk.paired_at, kiosk.revoked_at, kiosk.waiting_code_id = None, None, None, None
    digits = _new_pairing(kiosk, now)
    audit.record(actor, "kiosk.repair", kiosk.unit.code, name=kiosk.name)
    db.session.commit()
    return digits


def revoke(kiosk: Kiosk, *, actor: str) -> None:
    kiosk.key_hash = kiosk.pairing_hash = kiosk.pairing_expires_at = kiosk.waiting_code_id = None
    kiosk.revoked_at = utcnow()
    audit.record(actor, "kiosk.revoke", kiosk.unit.code, name=kiosk.name)
    db.session.commit()


def pair(typed: str) -> tuple[Kiosk, str]:
    """The kiosk whose pairing code was typed, and its new device key (the tablet's cookie)."""
    digits = "".join(ch for ch in typed if ch.isdigit())
    if len(digits) != PAIRING_DIGITS:
        raise KioskError(f"Mã ghép gồm {PAIRING_DIGITS} chữ số, hiện trên màn hình của cán bộ.")
    kiosk = db.session.scalar(select(Kiosk).filter_by(pairing_hash=_hash("pairing", digits)))
    if kiosk is None or kiosk.pairing_expires_at is None or kiosk.pairing_expires_at < utcnow():
        raise KioskError("Mã ghép không đúng hoặc đã hết hạn. Nhờ cán bộ tạo mã ghép mới rồi nhập lại.")
    key = secrets.token_urlsafe(32)
    kiosk.key_hash = _hash("device", key)
    kiosk.pairing_hash = kiosk.pairing_expires_at = None
    kiosk.paired_at = utcnow()
    audit.record("kiosk", "kiosk.pair", kiosk.unit.code, name=kiosk.name)
    db.session.commit()
    return kiosk, key


def by_key(key: str | None) -> Kiosk | None:
    """The paired, not revoked kiosk whose device key this is."""
    if not key:
        return None
    return db.session.scalar(select(Kiosk).filter_by(key_hash=_hash("device", key)))


def of_units(unit_ids: set[int] | None) -> list[Kiosk]:
    """The kiosks in use of these units (of all units for None), by name."""
    query = select(Kiosk).where(Kiosk.revoked_at.is_(None)).order_by(Kiosk.name)
    if unit_ids is not None:
        query = query.where(Kiosk.unit_id.in_(unit_ids))
    return list(db.session.scalars(query))


def send(kiosk: Kiosk, *, procedure: Procedure | None, actor: str) -> None:
    """Issue a single-use code for the dossier just handed back and let the kiosk show it. A
    code still waiting (the citizen left) is replaced: it stays issued and simply expires."""
    if kiosk.key_hash is None:
        raise KioskError(f"Máy tính bảng \u201c{kiosk.name}\u201d chưa được ghép: nhập mã ghép trên máy trước.")
    _, [issued] = codes.issue(unit=kiosk.unit, procedure=procedure, questionnaire=kiosk.questionnaire,
                              actor=actor, source=codes.KIOSK)
    kiosk.waiting_code_id = issued.id
    db.session.commit()


def pick_up(kiosk: Kiosk) -> str | None:
    """The code waiting for this kiosk, if any (the link is forgotten as it is read)."""
    if kiosk.waiting_code_id is None:
        return None
    record = db.session.get(SurveyCode, kiosk.waiting_code_id)
    kiosk.waiting_code_id = None
    db.session.commit()
    return codes.unseal(record) if record is not None else None
