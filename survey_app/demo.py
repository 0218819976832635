"""A demo department that looks like a provincial Department of Foreign Affairs (Sở Ngoại vụ)
under its 2023 plan: the Department Office monitors and reports; each specialised section
collects satisfaction surveys. Names are real-looking; the province and the data are made up.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select

import questionnaires

from .database import questionnaire_version
from .extensions import db
from .models import Answer, CodeBatch, Comment, Procedure, Response, Role, SurveyCode, Unit, User, random_id, utcnow
from .services import catalog, codes, users
from .services.timekeeping import today

DEPARTMENT = ("SNGV", "Sở Ngoại vụ tỉnh Minh Hà (dữ liệu mẫu)")
SECTIONS = [
    ("VP", "Văn phòng Sở"),
    ("LS", "Phòng Lãnh sự và Người Việt Nam ở nước ngoài"),
    ("HTQT", "Phòng Hợp tác quốc tế"),
    ("BG", "Phòng Quản lý biên giới"),
]
COUNTERS = [("LS-Q1", "Quầy 1 — Lãnh sự, Trung tâm Phục vụ hành chính công", "LS"),
            ("HTQT-Q2", "Quầy 2 — Hợp tác quốc tế, Trung tâm Phục vụ hành chính công", "HTQT")]
PROCEDURES = [
    ("1.000101", "Cho phép tổ chức hội nghị, hội thảo quốc tế thuộc thẩm quyền của Chủ tịch UBND tỉnh", "Hội nghị, hội thảo quốc tế"),
    ("1.000102", "Báo cáo kết quả tổ chức hội nghị, hội thảo quốc tế", "Hội nghị, hội thảo quốc tế"),
    ("1.000201", "Cho phép sử dụng thẻ đi lại của doanh nhân APEC (ABTC)", "Thẻ ABTC"),
    ("1.000202", "Cho phép sử dụng thẻ ABTC cấp lại do hết hạn, mất hoặc hỏng", "Thẻ ABTC"),
    ("1.000301", "Chứng nhận lãnh sự giấy tờ, tài liệu tại Sở Ngoại vụ", "Lãnh sự"),
    ("1.000302", "Hợp pháp hóa lãnh sự giấy tờ, tài liệu tại Sở Ngoại vụ", "Lãnh sự"),
    ("1.000303", "Tiếp nhận hồ sơ đề nghị cấp hộ chiếu ngoại giao, hộ chiếu công vụ", "Lãnh sự"),
    ("1.000304", "Tiếp nhận hồ sơ đề nghị cấp công hàm xin thị thực", "Lãnh sự"),
    ("1.000401", "Tiếp nhận thông tin về việc tổ chức phi chính phủ nước ngoài đặt văn phòng dự án", "Phi chính phủ nước ngoài"),
    ("1.000402", "Xác nhận hoạt động của tổ chức phi chính phủ nước ngoài trên địa bàn tỉnh", "Phi chính phủ nước ngoài"),
    ("1.000501", "Cho phép người nước ngoài vào khu vực biên giới đất liền", "Biên giới"),
    ("1.000502", "Cho phép tổ chức đoàn công tác nước ngoài làm việc tại khu vực biên giới", "Biên giới"),
]
SECTION_PROCEDURES = {"VP": ["1.000101", "1.000102"], "LS": ["1.000301", "1.000302", "1.000303", "1.000304"],
                      "HTQT": ["1.000201", "1.000202", "1.000401", "1.000402"], "BG": ["1.000501", "1.000502"]}
COMMENTS = [
    "Cán bộ hướng dẫn nhiệt tình, dễ hiểu.",
    "Thời gian chờ hơi lâu vào buổi sáng.",
    "Nên có thêm ghế ngồi chờ và nước uống.",
    "Thủ tục nhanh gọn, trả kết quả đúng hẹn.",
    "Cần niêm yết phí rõ hơn ở quầy.",
    "Mong có thêm hướng dẫn nộp hồ sơ trực tuyến.",
]


@dataclass(frozen=True)
class DemoSummary:
    department: str
    users: list[tuple[str, str, str]]
    sample_url: str


def seed_demo(*, months: int = 8, seed: int = 2023) -> DemoSummary:
    """Create the demo organisation once; on later runs only reset the demo passwords."""
    department = db.session.scalar(select(Unit).filter_by(code=DEPARTMENT[0]))
    if department is None:
        if db.session.scalar(select(Unit).limit(1)) is not None:
            raise ValueError(
                "This database already holds units that are not the demo's; the demo would mix "
                "with them. Run the demo with another data directory: SIPAS_DATA_DIR=./sipas-demo sipas demo"
            )
        _create_organisation()
        _synthetic_history(months=months, rng=random.Random(seed))
    passwords = _reset_demo_users()
    ls = db.session.scalar(select(Unit).filter_by(code="LS"))
    procedure = db.session.scalar(select(Procedure).filter_by(code="1.000301"))
    _, issued = codes.issue(unit=ls, procedure=procedure, kind="single", count=1, actor="demo", source="cli")
    return DemoSummary(DEPARTMENT[1], passwords, issued[0].url)


def _create_organisation() -> None:
    catalog.add_unit(*DEPARTMENT, actor="demo")
    for code, name in SECTIONS:
        catalog.add_unit(code, name, parent=DEPARTMENT[0], actor="demo")
    for code, name, parent in COUNTERS:
        catalog.add_unit(code, name, parent=parent, actor="demo")
    for code, name, field in PROCEDURES:
        catalog.add_procedure(code, name, field=field, actor="demo")


DEMO_USERS = [("admin", Role.ADMIN, None), ("vanphong", Role.ANALYST, None),
              ("lanhsu", Role.STAFF, "LS"), ("hoptac", Role.STAFF, "HTQT")]


def _reset_demo_users() -> list[tuple[str, str, str]]:
    out = []
    for username, role, unit in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        user = db.session.scalar(select(User).filter_by(username=username))
        if user is None:
            users.add_user(username, password, role.value, unit=unit, actor="demo")
        else:
            users.set_password(user, password, actor="demo")
        out.append((username, role.value, password))
    return out


def _synthetic_history(*, months: int, rng: random.Random) -> None:
    """Months of answered and unanswered codes with plausible, varied answers.

    Each section has its own strengths; the border section is weaker on information (TC, TT1)
    and the consular section improves over time, so trends and priorities show something.
    """
    q = questionnaires.load("sipas-2023")
    version = questionnaire_version("sipas-2023")
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    procedures = {p.code: p for p in db.session.scalars(select(Procedure))}
    end = today()
    start = end - dt.timedelta(days=30 * months)
    response_rows, answer_rows, comment_rows, code_rows = [], [], [], []
    level = {"VP": 0.3, "LS": 0.0, "HTQT": 0.45, "BG": -0.35}
    for section, base in level.items():
        unit = units[section]
        batch = CodeBatch(unit=unit, procedure=None, questionnaire_version=version, kind="single",
                          count=0, created_by="demo", source="cli", created_at=utcnow())
        db.session.add(batch)
        db.session.flush()
        day = start
        while day <= end:
            if day.weekday() < 5:
                for _ in range(rng.randint(1, 4)):
                    procedure = procedures[rng.choice(SECTION_PROCEDURES[section])]
                    answered = rng.random() < 0.62
                    issued_at = dt.datetime.combine(day, dt.time(2 + rng.randint(0, 7), rng.randint(0, 59)))
                    code_rows.append(dict(
                        code_hash=secrets.token_hex(32), sealed=None, batch_id=batch.id, unit_id=unit.id,
                        procedure_id=procedure.id, questionnaire_version_id=version.id, kind="single",
                        status="answered" if answered else "issued", issued_at=issued_at,
                        expires_at=issued_at + dt.timedelta(days=30)))
                    batch.count += 1
                    if answered:
                        trend = 0.5 * (day - start).days / max(1, (end - start).days) if section == "LS" else 0
                        _one_response(q, version.id, unit.id, procedure.id, day, base + trend, rng,
                                      response_rows, answer_rows, comment_rows)
            day += dt.timedelta(days=1)
    db.session.execute(insert(SurveyCode), code_rows)
    db.session.execute(insert(Response), response_rows)
    db.session.execute(insert(Answer), answer_rows)
    if comment_rows:
        db.session.execute(insert(Comment), comment_rows)
    db.session.commit()


def _one_response(q, version_id, unit_id, procedure_id, day, quality, rng, responses, answers, comments) -> None:
    same_day = rng.random() < 0.35
    submitted = day if same_day else day + dt.timedelta(days=rng.randint(1, 6))
    if submitted > today():
        submitted = day
        same_day = True
    rid = random_id()
    feedback = "co" if rng.random() < 0.15 else "khong"
    responses.append(dict(
        id=rid, questionnaire_version_id=version_id, unit_id=unit_id, procedure_id=procedure_id,
        channel="single", submitted_on=submitted, same_day=same_day, burst=False,
        respondent_type=rng.choice(["ca_nhan"] * 3 + ["to_chuc"]), feedback_given=feedback,
        gender=rng.choice(["nam", "nu", None]), age_group=rng.choice(["18-25", "26-34", "35-49", "50-60", "60+", None]),
        ethnicity=rng.choice(["kinh"] * 5 + ["khac", None]), education=rng.choice(
            ["trung_hoc_pho_thong", "cao_dang_dai_hoc", "cao_dang_dai_hoc", "tren_dai_hoc", None]),
        occupation=rng.choice(["cong_chuc", "doanh_nghiep", "tu_kinh_doanh", "hoc_sinh_sinh_vien", None]),
        residence=rng.choice(["thanh_thi", "thanh_thi", "nong_thon", None]),
    ))
    person = rng.gauss(0, 0.6)
    scores = []
    for criterion in q.criteria:
        if criterion.asked_if and feedback != "co":
            continue
        if rng.random() < 0.04:
            continue  # left blank
        weak = -0.6 if criterion.element == "TC" and quality < 0 else 0
        weak += -0.4 if criterion.code in ("TT1", "CC3") else 0
        value = round(3.9 + quality + person + weak + rng.gauss(0, 0.7))
        value = min(5, max(1, value))
        scores.append(value)
        answers.append(dict(response_id=rid, item=criterion.code, value=value))
    if q.general is not None:
        mean = sum(scores) / len(scores) if scores else 4
        answers.append(dict(response_id=rid, item=q.general.code,
                            value=min(5, max(1, round(mean + rng.gauss(0, 0.5))))))
    for item in q.expectations:
        if rng.random() < 0.8:
            answers.append(dict(response_id=rid, item=item.code, value=rng.choice([1, 2, 2, 3, 3])))
    if rng.random() < 0.08:
        comments.append(dict(id=random_id(), questionnaire_version_id=version_id, unit_id=unit_id,
                             procedure_id=procedure_id, submitted_on=submitted, text=rng.choice(COMMENTS)))
