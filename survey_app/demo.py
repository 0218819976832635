"""A demo province after the 1 July 2025 mergers, made up but real-looking: Đồng Nai, which
took in Bình Phước. The office that carries on the former Sở Ngoại vụ's procedures (its
sections: office, consular, cooperation, border) took over the work of Bình Phước's Sở
Ngoại vụ and its sections on 1 July 2025 (recorded as mergers, so trends run on across the
change); the provincial Public Administrative Service Centre receives dossiers at its
counters; a dozen communes and wards rate their procedures on the one-minute questionnaire,
at the counter on a kiosk or later on a phone. The data are made up (demo_history.py).
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from .extensions import db
from .kiosk import service as kiosks
from .models import Procedure, Role, Unit, User
from .services import catalog, codes, successions, users

PROVINCE = ("DN", "UBND tỉnh Đồng Nai (dữ liệu mẫu)")
OFFICE = ("VPDN", "Văn phòng UBND tỉnh — tiếp nhận nhiệm vụ đối ngoại của Sở Ngoại vụ")
SECTIONS = [
    ("VP", "Văn phòng Sở"),
    ("LS", "Phòng Lãnh sự và Người Việt Nam ở nước ngoài"),
    ("HTQT", "Phòng Hợp tác quốc tế"),
    ("BG", "Phòng Quản lý biên giới"),
]
CENTRE = ("TTHCC", "Trung tâm Phục vụ hành chính công tỉnh Đồng Nai")
COUNTERS = [("LS-Q1", "Quầy 1 — Lãnh sự, Trung tâm Phục vụ hành chính công", "LS"),
            ("HTQT-Q2", "Quầy 2 — Hợp tác quốc tế, Trung tâm Phục vụ hành chính công", "HTQT"),
            ("TTHCC-Q0", "Quầy tiếp nhận chung", "TTHCC")]
MERGED_ON = dt.date(2025, 7, 1)
# Bình Phước's former department and sections, merged into the office's (predecessor, successor).
FORMER = [("BP-SNGV", "Sở Ngoại vụ tỉnh Bình Phước (đến 30/06/2025)", None, "VPDN"),
          ("BP-LS", "Phòng Lãnh sự — Sở Ngoại vụ Bình Phước (đến 30/06/2025)", "BP-SNGV", "LS"),
          ("BP-HTQT", "Phòng Hợp tác quốc tế — Sở Ngoại vụ Bình Phước (đến 30/06/2025)", "BP-SNGV", "HTQT")]
COMMUNES = ["Phường Trấn Biên", "Phường Biên Hòa", "Phường Long Khánh", "Phường Đồng Xoài", "Phường Bình Long",
            "Xã Tân Phú", "Xã Định Quán", "Xã Xuân Lộc", "Xã Long Thành", "Xã Nhơn Trạch", "Xã Lộc Ninh",
            "Xã Bù Đăng"]
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
    # A commune's everyday procedures (codes of the sample, not of the national catalogue).
    ("M.000001", "Chứng thực bản sao từ bản chính giấy tờ, văn bản (mẫu)", "Chứng thực"),
    ("M.000002", "Đăng ký khai sinh (mẫu)", "Hộ tịch"),
    ("M.000003", "Đăng ký kết hôn (mẫu)", "Hộ tịch"),
    ("M.000004", "Cấp bản sao trích lục hộ tịch (mẫu)", "Hộ tịch"),
]
SECTION_PROCEDURES = {"VP": ["1.000101", "1.000102"], "LS": ["1.000301", "1.000302", "1.000303", "1.000304"],
                      "HTQT": ["1.000201", "1.000202", "1.000401", "1.000402"], "BG": ["1.000501", "1.000502"],
                      "BP-LS": ["1.000301", "1.000302"], "BP-HTQT": ["1.000201", "1.000401"]}
COMMUNE_PROCEDURES = ["M.000001", "M.000002", "M.000003", "M.000004"]
DEMO_USERS = [("admin", Role.ADMIN, None), ("vanphong", Role.ANALYST, None),
              ("lanhsu", Role.STAFF, "LS"), ("hoptac", Role.STAFF, "HTQT")]


def commune_codes() -> list[str]:
    return [f"X{i:02d}" for i in range(1, len(COMMUNES) + 1)]


@dataclass(frozen=True)
class DemoSummary:
    department: str
    users: list[tuple[str, str, str]]
    sample_url: str
    kiosk_pairing: str


def seed_demo(*, months: int = 20, seed: int = 2023) -> DemoSummary:
    """Create the demo province once; on later runs only reset the demo passwords and the
    kiosk's pairing code. ``months`` of history reach back before the 1 July 2025 mergers."""
    from .demo_history import synthetic_history

    if db.session.scalar(select(Unit).filter_by(code=PROVINCE[0])) is None:
        if db.session.scalar(select(Unit).limit(1)) is not None:
            raise ValueError(
                "This database already holds units that are not the demo's; the demo would mix "
                "with them. Run the demo with another data directory: SIPAS_DATA_DIR=./sipas-demo sipas demo"
            )
        _create_organisation()
        synthetic_history(months=months, rng=random.Random(seed))
        for predecessor, _, _, successor in FORMER:
            successions.record([predecessor], successor, effective_on=MERGED_ON, actor="demo",
                               note="Hợp nhất tỉnh Bình Phước vào tỉnh Đồng Nai (dữ liệu mẫu)")
    passwords = _reset_demo_users()
    ls = db.session.scalar(select(Unit).filter_by(code="LS"))
    procedure = db.session.scalar(select(Procedure).filter_by(code="1.000301"))
    _, issued = codes.issue(unit=ls, procedure=procedure, kind="single", count=1, actor="demo", source="cli")
    return DemoSummary(f"{PROVINCE[1]}: {OFFICE[1]}, trung tâm phục vụ hành chính công, {len(COMMUNES)} xã, phường",
                       passwords, issued[0].url, _kiosk_pairing(ls))


def _create_organisation() -> None:
    catalog.add_unit(*PROVINCE, kind="province", actor="demo")
    catalog.add_unit(*OFFICE, parent=PROVINCE[0], kind="department", actor="demo")
    for code, name in SECTIONS:
        catalog.add_unit(code, name, parent=OFFICE[0], kind="section", actor="demo")
    catalog.add_unit(*CENTRE, parent=PROVINCE[0], kind="centre", actor="demo")
    for code, name, parent in COUNTERS:
        catalog.add_unit(code, name, parent=parent, kind="counter", actor="demo")
    for code, name, parent, _ in FORMER:
        catalog.add_unit(code, name, parent=parent or PROVINCE[0], kind="section" if parent else "department",
                         actor="demo")
    for code, name in zip(commune_codes(), COMMUNES, strict=True):
        catalog.add_unit(code, name, parent=PROVINCE[0], kind="commune", actor="demo")
        catalog.add_unit(f"{code}-Q1", f"Quầy một cửa — {name}", parent=code, kind="counter", actor="demo")
    for code, name, field in PROCEDURES:
        catalog.add_procedure(code, name, field=field, actor="demo")


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


def _kiosk_pairing(unit: Unit) -> str:
    """A fresh pairing code for the consular counter's tablet (one is added the first time)."""
    existing = kiosks.of_units({unit.id})
    if existing:
        return kiosks.repair(existing[0], actor="demo")
    _, digits = kiosks.create(unit=unit, name="Quầy 1 — máy tính bảng", actor="demo")
    return digits
