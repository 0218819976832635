"""Survey codes: generation, checking, issuing, voiding, reprinting.

A code is 12 random Crockford base32 symbols (60 bits) and one check symbol (Luhn mod 32,
which catches every single mistyped symbol and most swaps of neighbours), shown grouped as
``ABCD-EFGH-JKMN-P``. The database keeps an HMAC of the 12 symbols (keyed with a key
derived from the secret key) to find it, and the code sealed with another derived key so
that staff can reprint it; a leaked database alone hands out no usable code.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import ColumnElement, DateTime, and_, bindparam, select, update
from sqlalchemy.orm import joinedload

from questionnaires import Questionnaire

from ..database import questionnaire_version, reading, stored_questionnaire
from ..extensions import db
from ..models import CodeBatch, CodeKind, CodeStatus, Procedure, QuestionnaireVersion, SurveyCode, Unit, utcnow
from . import audit
from .timekeeping import local_date, zone

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_LENGTH = 12
MAX_BATCH = 5000
# Crockford's reading rules: letters people confuse with digits decode to the digit.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CodeProblem(Enum):
    MALFORMED = "malformed"  # not a code at all
    CHECK_FAILED = "check"  # a code with a typo
    UNKNOWN = "unknown"
    VOIDED = "voided"
    EXPIRED = "expired"
    ANSWERED = "answered"


class PublicUrlError(RuntimeError):
    """Codes would point at an address no citizen's phone can open (SIPAS_PUBLIC_URL)."""


def check_public_url() -> None:
    """Refuse to issue codes for a loopback or unset public URL (outside `sipas demo`)."""
    from ..config import configured_public_url_problem

    problem = configured_public_url_problem(current_app.config)
    if problem:
        raise PublicUrlError(problem)


class CodeError(ValueError):
    def __init__(self, problem: CodeProblem, message: str = "") -> None:
        self.problem = problem
        super().__init__(message or problem.value)


def _check_symbol(data: str) -> str:
    """Luhn mod N over the base32 alphabet."""
    factor, total, n = 2, 0, len(ALPHABET)
    for char in reversed(data):
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def new_code() -> str:
    """A fresh code, grouped for reading: ``ABCD-EFGH-JKMN-P``."""
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_LENGTH))
    return group(data + _check_symbol(data))


def group(symbols: str) -> str:
    return "-".join(symbols[i:i + 4] for i in range(0, len(symbols), 4))


def parse(text: str) -> str:
    """Normalise a typed or scanned code and verify its check symbol.

    Returns the 12 data symbols. Case, spaces and dashes do not matter, and O, I, L read as
    0, 1, 1. Raises CodeError(MALFORMED) for something that is not a code and
    CodeError(CHECK_FAILED) for a code with a typo.
    """
    cleaned = "".join(ch for ch in (text or "").upper() if ch not in " -_.\t").translate(_READ_AS)
    if len(cleaned) != DATA_LENGTH + 1 or any(ch not in ALPHABET for ch in cleaned):
        raise CodeError(CodeProblem.MALFORMED)
    data, check = cleaned[:DATA_LENGTH], cleaned[DATA_LENGTH]
    if _check_symbol(data) != check:
        raise CodeError(CodeProblem.CHECK_FAILED)
    return data


def canonical(text: str) -> str:
    """The grouped form of a valid typed code (raises CodeError like :func:`parse`)."""
    data = parse(text)
    return group(data + _check_symbol(data))


def app_key(purpose: str) -> bytes:
    """The current app's key for one purpose (see :func:`derive_key`)."""
    return derive_key(current_app.config["SECRET_KEY"], purpose)


@functools.lru_cache(maxsize=64)
def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose, derived from the app's secret key (one secret, many keys)."""
    return hmac.new(secret.encode(), f"sipas:{purpose}".encode(), hashlib.sha256).digest()


def code_hash(data: str) -> str:
    return hmac.new(app_key("code-hash"), data.encode(), hashlib.sha256).hexdigest()


def dossier_hash(unit_id: int, dossier: str) -> str:
    message = f"{unit_id}:{dossier.strip().upper()}".encode()
    return hmac.new(app_key("dossier"), message, hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(app_key("code-seal")))


def seal(code: str) -> str:
    return _fernet().encrypt(code.encode()).decode()


def unseal(record: SurveyCode) -> str | None:
    """The printable code, or None when it cannot be recovered (key changed)."""
    if not record.sealed:
        return None
    try:
        return _fernet().decrypt(record.sealed.encode()).decode()
    except InvalidToken:
        return None


def code_url(code: str) -> str:
    return f"{current_app.config['SIPAS_PUBLIC_URL']}/s/{code}"


@dataclass(frozen=True)
class IssuedCode:
    id: int
    code: str
    url: str
    kind: str
    expires_at: dt.datetime | None
    unit: str
    unit_name: str
    procedure: str | None
    procedure_name: str | None
    questionnaire: str

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code, "url": self.url, "kind": self.kind,
            "expires_at": self.expires_at.isoformat() + "Z" if self.expires_at else None,
            "unit": self.unit, "procedure": self.procedure, "questionnaire": self.questionnaire,
        }


def describe(record: SurveyCode, code: str) -> IssuedCode:
    return IssuedCode(
        id=record.id, code=code, url=code_url(code), kind=record.kind, expires_at=record.expires_at,
        unit=record.unit.code, unit_name=record.unit.name,
        procedure=record.procedure.code if record.procedure else None,
        procedure_name=record.procedure.name if record.procedure else None,
        questionnaire=record.questionnaire_version.key,
    )


def issue(*, unit: Unit, procedure: Procedure | None, questionnaire: str = "sipas-2023",
          kind: str = CodeKind.SINGLE, count: int = 1, actor: str, source: str = "web",
          dossier: str | None = None, ttl_days: int | None = None,
          competent: Unit | None = None) -> tuple[CodeBatch | None, list[IssuedCode]]:
    """Issue ``count`` codes in one batch and one transaction.

    ``competent``: the agency competent to decide the dossiers, when it is not ``unit`` (a
    service centre receives for the departments); by default the procedure's, if it names one.

    With ``dossier`` (API only) a repeat for the same unit and dossier number returns the
    code issued the first time, if it can still be answered; once that code was answered,
    CodeError(ANSWERED): one dossier, one answer. A voided or expired code that nobody
    answered is replaced by a new one.
    """
    if kind not in {k.value for k in CodeKind}:
        raise ValueError(f"kind: '{kind}' is not single or counter")
    if not 1 <= count <= MAX_BATCH:
        raise ValueError(f"count: must be from 1 to {MAX_BATCH}, got {count}")
    if kind == CodeKind.COUNTER and count != 1:
        raise ValueError(COUNTER_IS_ONE)
    if dossier is not None and count != 1:
        raise ValueError("count: a dossier number goes with exactly one code")
    check_public_url()
    competent = competent or (procedure.competent_unit if procedure is not None else None)
    if competent is not None and competent.id == unit.id:
        competent = None  # the receiving unit decides: nothing to record
    version = questionnaire_version(questionnaire)
    ttl = current_app.config["SIPAS_CODE_TTL_DAYS"] if ttl_days is None else ttl_days
    now = utcnow()
    expires = now + dt.timedelta(days=ttl) if kind == CodeKind.SINGLE else None
    hashed_dossier = dossier_hash(unit.id, dossier) if dossier else None
    if hashed_dossier:
        existing = db.session.scalar(select(SurveyCode).filter_by(dossier_hash=hashed_dossier))
        if existing is not None:
            if existing.status == CodeStatus.ANSWERED:
                raise CodeError(CodeProblem.ANSWERED, "this dossier's code was answered")
            code = unseal(existing)
            if code and existing.status == CodeStatus.ISSUED and (
                existing.expires_at is None or existing.expires_at > now
            ):
                return existing.batch, [describe(existing, code)]
            # The old code is used up or unreadable: the dossier gets a new one.
            existing.dossier_hash = None
    batch = _todays_slips(unit, procedure, version, actor, now, source) if source in (SLIPS, KIOSK) else None
    if batch is not None:
        batch.count += count
    else:
        batch = CodeBatch(unit=unit, procedure=procedure, questionnaire_version=version, kind=str(kind),
                          count=count, created_by=actor, source=source, created_at=now)
        db.session.add(batch)
    made: list[tuple[SurveyCode, str]] = []
    for _ in range(count):
        code = new_code()
        record = SurveyCode(
            code_hash=code_hash(parse(code)), sealed=seal(code), batch=batch, unit=unit,
            procedure=procedure, questionnaire_version=version, kind=str(kind),
            status=CodeStatus.ISSUED.value, issued_at=now, expires_at=expires,
            dossier_hash=hashed_dossier, competent_unit=competent,
        )
        db.session.add(record)
        made.append((record, code))
    audit.record(actor, "codes.issue", unit.code, count=count, kind=str(kind), source=source,
                 procedure=procedure.code if procedure else None, questionnaire=version.key,
                 **({"competent": competent.code} if competent else {}))
    db.session.commit()
    return batch, [describe(record, code) for record, code in made]


#: One rule for the web, the command line and the API.
COUNTER_IS_ONE = ("Mỗi áp phích tại quầy là một mã: số lượng phải là 1; in thêm áp phích thì tạo thêm lần nữa "
                  "(a counter poster is one code: count must be 1).")
#: The source of single slips printed one by one: a clerk's slips of one day and target
#: share a batch, so the batch list shows one row per clerk and day, not one per slip.
SLIPS = "slip"
#: The source of codes a clerk sends to a counter kiosk: grouped per clerk and day the same way.
KIOSK = "kiosk"


def _todays_slips(unit: Unit, procedure: Procedure | None, version: Any, actor: str,
                  now: dt.datetime, source: str) -> CodeBatch | None:
    midnight = dt.datetime.combine(local_date(now), dt.time(), tzinfo=zone()).astimezone(dt.UTC).replace(tzinfo=None)
    return db.session.scalar(select(CodeBatch).where(
        CodeBatch.source == source, CodeBatch.created_by == actor, CodeBatch.unit_id == unit.id,
        CodeBatch.procedure_id.is_(None) if procedure is None else CodeBatch.procedure_id == procedure.id,
        CodeBatch.questionnaire_version_id == version.id, CodeBatch.created_at >= midnight,
    ).order_by(CodeBatch.id.desc()).limit(1))


def find(text: str) -> SurveyCode:
    """The stored code for a typed or scanned one; CodeError says why it cannot be used."""
    data = parse(text)
    # One query: staff pages and the API show the unit and procedure and the questionnaire
    # version (the citizen's pages use lookup(), without the ORM).
    record = db.session.scalar(select(SurveyCode).filter_by(code_hash=code_hash(data)).options(
        joinedload(SurveyCode.unit), joinedload(SurveyCode.procedure), joinedload(SurveyCode.questionnaire_version)))
    if record is None:
        raise CodeError(CodeProblem.UNKNOWN)
    return record


@dataclass(frozen=True)
class CodeInfo:
    """What the citizen's pages need of a code; attribute names as on SurveyCode."""

    id: int
    kind: str
    status: str
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    unit_id: int
    procedure_id: int | None
    questionnaire_version_id: int
    unit_name: str
    procedure_name: str | None
    questionnaire_id: str
    questionnaire_number: int
    questionnaire_sha256: str
    competent_unit_id: int | None

    def questionnaire(self) -> Questionnaire:
        """The questionnaire version the code is answered with, as stored in the database."""
        return stored_questionnaire(self.questionnaire_version_id, self.questionnaire_id,
                                    self.questionnaire_number, self.questionnaire_sha256)


_LOOKUP = (
    select(SurveyCode.id, SurveyCode.kind, SurveyCode.status, SurveyCode.issued_at, SurveyCode.expires_at,
           SurveyCode.unit_id, SurveyCode.procedure_id, SurveyCode.questionnaire_version_id, Unit.name,
           Procedure.name, QuestionnaireVersion.questionnaire_id, QuestionnaireVersion.version,
           QuestionnaireVersion.sha256, SurveyCode.competent_unit_id)
    .join(Unit, Unit.id == SurveyCode.unit_id)
    .outerjoin(Procedure, Procedure.id == SurveyCode.procedure_id)
    .join(QuestionnaireVersion, QuestionnaireVersion.id == SurveyCode.questionnaire_version_id)
    .where(SurveyCode.code_hash == bindparam("code_hash")))


def lookup(text: str) -> CodeInfo:
    """Like :func:`find`, for the citizen's pages: one Core query (SQLAlchemy caches its
    compiled form), no ORM objects. Raises CodeError(MALFORMED, CHECK_FAILED or UNKNOWN)."""
    hashed = code_hash(parse(text))
    with reading() as connection:  # as Core, outside any transaction: no ORM machinery per row
        row = connection.execute(_LOOKUP, {"code_hash": hashed}).first()
    if row is None:
        raise CodeError(CodeProblem.UNKNOWN)
    return CodeInfo(*row)


def usable(record: SurveyCode | CodeInfo, now: dt.datetime | None = None) -> None:
    """Raise CodeError when the code can no longer be answered."""
    now = now or utcnow()
    if record.status == CodeStatus.VOIDED:
        raise CodeError(CodeProblem.VOIDED)
    if record.kind == CodeKind.SINGLE and record.status == CodeStatus.ANSWERED:
        raise CodeError(CodeProblem.ANSWERED)
    if record.expires_at is not None and record.expires_at <= now:
        raise CodeError(CodeProblem.EXPIRED)


def refusal(code_id: int, now: dt.datetime) -> CodeError:
    """Why a code could not be burned (read after the refused burn, in the same session)."""
    row = db.session.connection().execute(select(SurveyCode.kind, SurveyCode.status, SurveyCode.expires_at)
                                          .where(SurveyCode.id == code_id)).first()
    if row is None:  # the database was replaced (restored) under this process
        return CodeError(CodeProblem.UNKNOWN)
    try:
        usable(_State(*row), now)
    except CodeError as exc:
        return exc
    return CodeError(CodeProblem.ANSWERED)  # another submission got it first


@dataclass(frozen=True)
class _State:
    kind: str
    status: str
    expires_at: dt.datetime | None


# Burning single-use codes: the conditional UPDATE is what makes simultaneous submissions
# store exactly one response (the loser changes no row). Complete it with burn_where().
BURN = update(SurveyCode).values(status=CodeStatus.ANSWERED.value)


def burn_where(which: ColumnElement[bool]) -> ColumnElement[bool]:
    """The codes among ``which`` that can still be answered at the parameter ``now``."""
    still_open = SurveyCode.expires_at.is_(None) | (SurveyCode.expires_at > bindparam("now", type_=DateTime()))
    return and_(which, SurveyCode.status == CodeStatus.ISSUED.value, still_open)


def void_codes(records: list[SurveyCode], *, actor: str, reason: str = "") -> int:
    """Void codes that were not answered yet; returns how many were voided."""
    now, voided = utcnow(), 0
    for record in records:
        if record.status == CodeStatus.ISSUED:
            record.status, record.voided_at = CodeStatus.VOIDED.value, now
            voided += 1
    if records:
        audit.record(actor, "codes.void", records[0].unit.code, count=voided,
                     batch=records[0].batch_id, reason=reason or None)
    db.session.commit()
    return voided


def reprint(records: list[SurveyCode], *, actor: str) -> list[IssuedCode]:
    """The printable codes of still-usable records (audited as a reprint)."""
    now, out = utcnow(), []
    for record in records:
        try:
            usable(record, now)
        except CodeError:
            continue
        code = unseal(record)
        if code:
            out.append(describe(record, code))
    if records:
        audit.record(actor, "codes.reprint", records[0].unit.code, count=len(out), batch=records[0].batch_id)
        db.session.commit()
    return out
