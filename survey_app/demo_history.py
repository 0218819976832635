"""The demo province's made-up history: months of answered and unanswered codes with
plausible, varied answers, written in a few bulk inserts.

Each section has its own strengths; the border section is weaker on information (TC, TT1),
the consular section improves over time, Bình Phước's former sections answer until the
merger, so trends, priorities and the merger show something. The communes rate their
procedures on the one-minute questionnaire, a third of them on the counter's kiosk (where
people are kinder: the pressure the kiosk channel lets an analyst see). A third of the
comments are complaints or requests, most answered on time; the one-stop system's monthly
dossier counts are imported for every unit, so the 766 items have all they need.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from typing import Any

from sqlalchemy import insert, select

import questionnaires

from .database import questionnaire_version
from .demo import COMMUNE_PROCEDURES, FORMER, MERGED_ON, SECTION_PROCEDURES, commune_codes
from .extensions import db
from .feedback import service as cases
from .feedback.model import DossierTally, FeedbackCase
from .models import Answer, CodeBatch, Comment, Procedure, Response, SurveyCode, Unit, random_id, utcnow
from .services.timekeeping import today

COMMENTS = [
    "Cán bộ hướng dẫn nhiệt tình, dễ hiểu.",
    "Thời gian chờ hơi lâu vào buổi sáng.",
    "Nên có thêm ghế ngồi chờ và nước uống.",
    "Thủ tục nhanh gọn, trả kết quả đúng hẹn.",
    "Cần niêm yết phí rõ hơn ở quầy.",
    "Mong có thêm hướng dẫn nộp hồ sơ trực tuyến.",
]
LEVELS = {"VP": 0.3, "LS": 0.0, "HTQT": 0.45, "BG": -0.35, "BP-LS": -0.2, "BP-HTQT": 0.1}


class _Rows:
    """What the history inserts, gathered first (one INSERT per table)."""

    def __init__(self) -> None:
        self.codes: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self.cases: list[dict[str, Any]] = []
        self.batches: dict[tuple[int, str, str], CodeBatch] = {}

    def batch(self, unit: Unit, q: questionnaires.Questionnaire, source: str) -> CodeBatch:
        """One batch per unit, questionnaire and source (slips or the kiosk) for the whole history."""
        key = (unit.id, q.id, source)
        if key not in self.batches:
            batch = CodeBatch(unit=unit, procedure=None, questionnaire_version=questionnaire_version(q.id),
                              kind="single", count=0, created_by="demo", source=source, created_at=utcnow())
            db.session.add(batch)
            db.session.flush()
            self.batches[key] = batch
        return self.batches[key]

    def write(self) -> None:
        for model, rows in ((SurveyCode, self.codes), (Response, self.responses), (Answer, self.answers),
                            (Comment, self.comments), (FeedbackCase, self.cases), (DossierTally, self.tallies())):
            if rows:
                db.session.execute(insert(model), rows)
        db.session.commit()

    def tallies(self) -> list[dict[str, Any]]:
        """What the one-stop system would report: a fifth more dossiers than codes handed
        out (some people take none), 1-4 % of them overdue; the current month is not over."""
        counts: dict[tuple[int, dt.date], int] = {}
        for code in self.codes:
            month = code["issued_at"].date().replace(day=1)
            counts[(code["unit_id"], month)] = counts.get((code["unit_id"], month), 0) + 1
        rng, now = random.Random(len(self.codes)), today().replace(day=1)
        out = []
        for (unit_id, month), issued in sorted(counts.items()):
            if month < now:
                decided = round(issued * 1.2)
                out.append(dict(unit_id=unit_id, month=month, decided=decided,
                                overdue=round(decided * rng.uniform(0.01, 0.04)), imported_at=utcnow(),
                                imported_by="demo"))
        return out


def synthetic_history(*, months: int, rng: random.Random) -> None:
    end = today()
    start = end - dt.timedelta(days=30 * months)
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    procedures = {p.code: p for p in db.session.scalars(select(Procedure))}
    former = {code for code, *_ in FORMER}
    rows = _Rows()
    long_form = questionnaires.load("sipas-2023")
    for section, base in LEVELS.items():
        last = min(end, MERGED_ON - dt.timedelta(days=1)) if section in former else end
        for day, procedure_code in _workdays(start, last, rng, 1, 4, SECTION_PROCEDURES[section]):
            trend = 0.5 * (day - start).days / max(1, (end - start).days) if section == "LS" else 0
            _dossier(rows, long_form, units[section], procedures[procedure_code], day, base + trend, rng)
    short_form = questionnaires.load("tt01-counter")
    for i, commune in enumerate(commune_codes()):
        base = (i % 5 - 2) * 0.2
        for day, procedure_code in _workdays(start, end, rng, 0, 3, COMMUNE_PROCEDURES):
            _dossier(rows, short_form, units[commune], procedures[procedure_code], day, base, rng,
                     kiosk=rng.random() < 0.35)
    for section in LEVELS:  # an open complaint for each current section's clerks to answer
        if section not in former:
            case = _case(units[section].id, procedures[SECTION_PROCEDURES[section][0]].id, "single",
                         end - dt.timedelta(days=2), "Phải chờ hơn một giờ mới được tiếp nhận hồ sơ.", rng)
            rows.cases.append({**case, "kind": "complaint", "status": "open", "outcome": None, "closed_on": None,
                               "rating": None, "rated_on": None})
    rows.write()


def _workdays(start: dt.date, end: dt.date, rng: random.Random, low: int, high: int, procedures: list[str]):
    day = start
    while day <= end:
        if day.weekday() < 5:
            for _ in range(rng.randint(low, high)):
                yield day, rng.choice(procedures)
        day += dt.timedelta(days=1)


def _dossier(rows: _Rows, q: questionnaires.Questionnaire, unit: Unit, procedure: Procedure, day: dt.date,
             quality: float, rng: random.Random, *, kiosk: bool = False) -> None:
    """One dossier handed back on ``day``: its code, and an answer for most of them."""
    batch = rows.batch(unit, q, "kiosk" if kiosk else "cli")
    answered = kiosk and rng.random() < 0.9 or not kiosk and rng.random() < 0.62
    issued_at = dt.datetime.combine(day, dt.time(2 + rng.randint(0, 7), rng.randint(0, 59)))
    rows.codes.append(dict(
        code_hash=secrets.token_hex(32), sealed=None, batch_id=batch.id, unit_id=unit.id, procedure_id=procedure.id,
        questionnaire_version_id=batch.questionnaire_version_id, kind="single",
        status="answered" if answered else "issued", issued_at=issued_at, expires_at=issued_at + dt.timedelta(days=30)))
    batch.count += 1
    if answered:
        _response(rows, q, batch.questionnaire_version_id, unit.id, procedure.id, day, quality + (0.3 if kiosk else 0),
                  rng, kiosk=kiosk)


def _response(rows: _Rows, q: questionnaires.Questionnaire, version_id: int, unit_id: int, procedure_id: int,
              day: dt.date, quality: float, rng: random.Random, *, kiosk: bool) -> None:
    same_day = kiosk or rng.random() < 0.35
    submitted = day if same_day else day + dt.timedelta(days=rng.randint(1, 6))
    if submitted > today():
        submitted, same_day = day, True
    rid = random_id()
    feedback = "co" if rng.random() < 0.15 else "khong"
    long_form = q.id == "sipas-2023"
    rows.responses.append(dict(
        id=rid, questionnaire_version_id=version_id, unit_id=unit_id, procedure_id=procedure_id,
        channel="kiosk" if kiosk else "single", submitted_on=submitted, same_day=same_day, burst=False,
        **(_person(rng, feedback) if long_form else {})))
    top = q.general.scale.max if q.general else 5
    person = rng.gauss(0, 0.6)
    scores = []
    for criterion in q.criteria:
        if criterion.asked_if and feedback != "co" or rng.random() < 0.04:
            continue  # not asked, or left blank
        weak = -0.6 if criterion.element == "TC" and quality < 0 else 0
        weak += -0.4 if criterion.code in ("TT1", "CC3") else 0
        levels = criterion.scale.max
        centre = (3.9 + quality + weak) * levels / 5
        value = min(levels, max(1, round(centre + (person + rng.gauss(0, 0.7)) * levels / 5)))
        scores.append(value / levels)
        rows.answers.append(dict(response_id=rid, item=criterion.code, value=value))
    if q.general is not None:
        mean = sum(scores) / len(scores) if scores else 0.8
        rows.answers.append(dict(response_id=rid, item=q.general.code,
                                 value=min(top, max(1, round(mean * top + rng.gauss(0, 0.5))))))
    for item in q.expectations:
        if rng.random() < 0.8:
            rows.answers.append(dict(response_id=rid, item=item.code, value=rng.choice([1, 2, 2, 3, 3])))
    if rng.random() < 0.08:
        text = rng.choice(COMMENTS)
        rows.comments.append(dict(id=random_id(), questionnaire_version_id=version_id, unit_id=unit_id,
                                  procedure_id=procedure_id, submitted_on=submitted, text=text))
        if rng.random() < 0.35:
            rows.cases.append(_case(unit_id, procedure_id, "kiosk" if kiosk else "single", submitted, text, rng))


def _case(unit_id: int, procedure_id: int, channel: str, received: dt.date, text: str,
          rng: random.Random) -> dict[str, Any]:
    """A complaint or request: most answered within the deadline, some late, recent ones open."""
    due = cases.due_on(received)
    taken = rng.choice([1, 2, 3, 5, 8, 9, 10, 12, 15])  # calendar days to answer
    closed = received + dt.timedelta(days=taken)
    done = closed <= today()
    rating = rng.choice(["satisfied", "satisfied", "satisfied", "dissatisfied", None]) if done else None
    return dict(id=random_id(), number=cases.new_number(), follow_hash=None,
                kind=rng.choice(["complaint", "complaint", "request"]), channel=channel, unit_id=unit_id,
                procedure_id=procedure_id, received_on=received, due_on=due, text=text,
                status="closed" if done else "open",
                outcome="Đơn vị đã tiếp thu và điều chỉnh; cảm ơn Ông/Bà đã góp ý." if done else None,
                closed_on=closed if done else None, rating=rating, rated_on=closed if rating else None)


def _person(rng: random.Random, feedback: str) -> dict[str, Any]:
    """The long questionnaire's questions about the person (all optional)."""
    return dict(
        respondent_type=rng.choice(["ca_nhan"] * 3 + ["to_chuc"]), feedback_given=feedback,
        gender=rng.choice(["nam", "nu", None]), age_group=rng.choice(["18-25", "26-34", "35-49", "50-60", "60+", None]),
        ethnicity=rng.choice(["kinh"] * 5 + ["khac", None]), education=rng.choice(
            ["trung_hoc_pho_thong", "cao_dang_dai_hoc", "cao_dang_dai_hoc", "tren_dai_hoc", None]),
        occupation=rng.choice(["cong_chuc", "doanh_nghiep", "tu_kinh_doanh", "hoc_sinh_sinh_vien", None]),
        residence=rng.choice(["thanh_thi", "thanh_thi", "nong_thon", None]))
