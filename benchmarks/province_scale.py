"""Every page at a province's size (issue 16): 3,300 communes, 200 counters, 2,000 procedures.

Builds two organisations through the service layer, each in its own temporary data
directory (the shell's ``SIPAS_*`` settings are stripped; every setting is passed to
``create_app``):

- the province: a provincial People's Committee, 30 departments of 4 sections, the service
  centre and 10 branches, 3,300 communes (under the province, as in the two-tier
  government), 200 counters in the first 100 communes (``unit_import.import_units``), a
  2,000-procedure catalogue (``catalog.import_procedures``), staff of a commune and of a
  department, an analyst and an admin, a few thousand answered codes spread over many units
  (``codes.issue`` then ``responses.store``), a few kiosks, posters and API keys;
- a small organisation of about 10 units built the same way (the baseline).

Then, logged in as each role through Flask's test client, it times every page a person
opens on both: the first request (cold) and the median of 5 warm ones (2 when the first
warm one takes more than --cap seconds), alternating the two organisations so that both see
the same machine load; also the SQL statements and the size of each page. Each province
figure is also given as a ratio to the same page on the small organisation and to
``GET /healthz``. Then each analyst page right after one new response (the dashboard's
cached results are for the data before it), and the functions that read every unit. Prints
tables (and the slow pages' profiles with --profile) and exits 1 when a page's warm median
on the province exceeds the goal (0.5 s).

    python benchmarks/province_scale.py                       # SQLite, the issue's sizes
    python benchmarks/province_scale.py --communes 1000 --json /tmp/p1000.json
    python benchmarks/province_scale.py --profile             # cProfile of the slow pages
    python benchmarks/province_scale.py --postgres-url "$SIPAS_TEST_POSTGRES_URL"
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_SECONDS = 0.5
PASSWORD = "bench password 1"

# What each person opens. {dept}, {commune}, {province}, {unit_id}, {user_id} name the
# organisation's own units and records.
STAFF_PAGES = ["/staff/", "/staff/batches", "/staff/rates", "/staff/kiosks/", "/staff/cases/"]
ANALYST_PAGES = ["/analyst/", "/analyst/criteria", "/analyst/trend", "/analyst/units", "/analyst/priorities",
                 "/analyst/expectations", "/analyst/comments", "/analyst/766", "/analyst/downloads"]
ADMIN_PAGES = ["/admin/units", "/admin/units/new", "/admin/units/{unit_id}", "/admin/units/import",
               "/admin/units/merge", "/admin/procedures",
               "/admin/procedures?q=đất", "/admin/procedures/import", "/admin/users", "/admin/users/new",
               "/admin/users/{user_id}", "/admin/audit", "/admin/api-keys", "/admin/api-keys/new"]
UNIT_FILTERS = ["", "?unit={province}", "?unit={dept}", "?unit={commune}"]


def pages() -> list[tuple[str, str]]:
    """(role, path) in the order they are timed."""
    out = [(role, p) for role in ("commune", "department") for p in STAFF_PAGES]
    out += [("admin", p) for p in STAFF_PAGES + ADMIN_PAGES]
    out += [("analyst", "/staff/rates")]
    out += [("analyst", p + f) for f in UNIT_FILTERS for p in ANALYST_PAGES]
    return out


# ----------------------------------------------------------------------------- the organisation
@dataclass(frozen=True)
class Size:
    communes: int
    counters: int
    departments: int
    sections: int
    branches: int
    procedures: int
    responses: int
    per_unit: int = 5  # answered codes per unit that has answers


SMALL = Size(communes=2, counters=2, departments=1, sections=2, branches=1, procedures=40, responses=0)

SYLLABLES = ["An", "Bình", "Cát", "Đông", "Hòa", "Long", "Phú", "Tân", "Thạnh", "Trung", "Vĩnh", "Xuân", "Mỹ",
             "Phước", "Thuận", "Hưng", "Lộc", "Nghĩa", "Sơn", "Thành"]
FIELDS = ["Đất đai", "Tư pháp", "Hộ tịch", "Xây dựng", "Giao thông vận tải", "Lao động", "Giáo dục", "Y tế",
          "Công thương", "Nông nghiệp", "Tài nguyên môi trường", "Thuế", "Đầu tư", "Doanh nghiệp", "Văn hóa",
          "Du lịch", "Nội vụ", "Tôn giáo", "Thi đua khen thưởng", "Bảo trợ xã hội", "Người có công", "Lâm nghiệp",
          "Thủy lợi", "Khoa học công nghệ", "Thông tin truyền thông", "Tài chính", "Kế hoạch", "Quốc tịch",
          "Chứng thực", "Nuôi con nuôi", "Lý lịch tư pháp", "Đăng ký biện pháp bảo đảm", "Thủy sản", "Thú y",
          "Trồng trọt", "Phòng cháy chữa cháy", "Cư trú", "Dân tộc", "Thanh tra", "Ngoại vụ"]
VERBS = ["Cấp", "Cấp lại", "Cấp đổi", "Gia hạn", "Điều chỉnh", "Thu hồi", "Đăng ký", "Xác nhận", "Thẩm định",
         "Phê duyệt"]
OBJECTS = ["giấy phép", "giấy chứng nhận", "chứng chỉ hành nghề", "giấy xác nhận", "văn bản chấp thuận",
           "quyết định", "hồ sơ", "giấy đăng ký"]


def _name(i: int) -> str:
    return f"{SYLLABLES[i % len(SYLLABLES)]} {SYLLABLES[(i // len(SYLLABLES)) % len(SYLLABLES)]}"


def units_csv(size: Size) -> tuple[bytes, dict[str, str]]:
    """The province's units as its catalogue of agencies lists them, and a few codes by role."""
    rows = ["code,name,kind,parent", "TINH,UBND tỉnh Thử nghiệm,tỉnh,"]
    for d in range(1, size.departments + 1):
        dept = f"S{d:02d}"
        rows.append(f"{dept},Sở {FIELDS[d % len(FIELDS)]},sở,TINH")
        rows += [f"{dept}-P{s},Phòng {s} {FIELDS[(d + s) % len(FIELDS)]},phòng,{dept}"
                 for s in range(1, size.sections + 1)]
    rows.append("TTHCC,Trung tâm Phục vụ hành chính công tỉnh,trung tâm,TINH")
    rows += [f"TTHCC-CN{b:02d},Chi nhánh {_name(b)},chi nhánh,TTHCC" for b in range(1, size.branches + 1)]
    for c in range(1, size.communes + 1):
        rows.append(f"X{c:04d},{'Phường' if c % 7 == 0 else 'Xã'} {_name(c)} {c},xã,TINH")
    for k in range(size.counters):  # two counters a commune, in the first communes
        rows.append(f"X{k // 2 + 1:04d}-Q{k % 2 + 1},Quầy {k % 2 + 1},quầy,X{k // 2 + 1:04d}")
    return ("\n".join(rows) + "\n").encode(), {"province": "TINH", "dept": "S01", "commune": "X0001",
                                                "section": "S01-P1"}


def procedures_csv(n: int) -> bytes:
    """A catalogue in the national shape: codes like 1.001234, names of 5 to 15 words."""
    rows = ["code,name,field"]
    for i in range(n):
        f = FIELDS[i % len(FIELDS)]
        rows.append(f'1.{1000 + i:06d},"{VERBS[i % len(VERBS)]} {OBJECTS[(i // 3) % len(OBJECTS)]} '
                    f'{f.lower()} {"cho tổ chức, cá nhân" if i % 2 else "trong trường hợp bị mất, hư hỏng"} '
                    f'(thủ tục {i})",{f}')
    return ("\n".join(rows) + "\n").encode()


def answered_units(size: Size, codes: dict[str, str]) -> list[str]:
    """Units that get answers: every counter, section and branch first, then communes."""
    wanted = -(-size.responses // size.per_unit) if size.responses else 0
    units = [f"X{k // 2 + 1:04d}-Q{k % 2 + 1}" for k in range(size.counters)]
    units += [f"S{d:02d}-P{s}" for d in range(1, size.departments + 1) for s in range(1, size.sections + 1)]
    units += [f"TTHCC-CN{b:02d}" for b in range(1, size.branches + 1)]
    step = max(1, size.communes // max(1, wanted - len(units)))
    units += [f"X{c:04d}" for c in range(1, size.communes + 1, step)]
    units = ([codes["commune"], codes["section"]] + units)[:max(wanted, 2)]
    return list(dict.fromkeys(units))


def answers(q, rng) -> dict[str, str]:
    """A complete, valid sipas-2023 answer (no feedback given, so no PA questions)."""
    data = {c: str(rng.choice([1, 2, 3, 4, 4, 5, 5])) for c in q.answer_columns if not c.startswith("PA")}
    data.update({e.code: str(rng.choice([1, 2, 3])) for e in q.expectations}, feedback_given="khong",
                respondent_type="ca_nhan")
    return data


def build(size: Size, seed: int = 16) -> dict[str, object]:
    """The organisation, in an app context. Returns the codes and ids the pages name."""
    import random

    import questionnaires
    from survey_app.extensions import db
    from survey_app.kiosk import service as kiosks
    from survey_app.models import CodeKind, Unit, User
    from survey_app.services import apikeys, catalog, codes, responses, unit_import, users

    rng = random.Random(seed)
    units, names = units_csv(size)
    unit_import.import_units(units, actor="bench")
    catalog.import_procedures(procedures_csv(size.procedures), actor="bench")
    users.add_user("admin", PASSWORD, "admin")
    users.add_user("analyst", PASSWORD, "analyst")
    users.add_user("xa", PASSWORD, "staff", unit=names["commune"])
    users.add_user("so", PASSWORD, "staff", unit=names["dept"])
    procedure_codes = [f"1.{1000 + i:06d}" for i in range(min(size.procedures, 60))]
    q = questionnaires.load("sipas-2023")
    stored = 0
    for n, code in enumerate(answered_units(size, names)):
        unit = catalog.unit_by_code(code)
        procedure = catalog.procedure_by_code(rng.choice(procedure_codes))
        count = max(1, min(size.per_unit, size.responses - stored)) if size.responses else size.per_unit
        # One more code than answers: the response rate has an open code to count.
        _, issued = codes.issue(unit=unit, procedure=procedure, count=count + 1, actor="xa" if n % 2 else "so")
        for item in issued[:count]:
            data = answers(q, rng)
            if rng.random() < 0.2:
                data["comment"] = f"Cán bộ {code} hướng dẫn tận tình, thủ tục đất đai còn chậm."
            submission = responses.validate(q, data)
            assert isinstance(submission, responses.Submission), submission
            responses.store(codes.find(item.code), q, submission)
            stored += 1
        if n % 10 == 0:
            codes.issue(unit=unit, procedure=None, kind=CodeKind.COUNTER, actor="so")  # a poster
    for unit_code in (names["commune"], names["section"], names["dept"]):
        kiosk, digits = kiosks.create(unit=catalog.unit_by_code(unit_code), name=f"Quầy {unit_code}", actor="so")
        kiosks.pair(digits)
    apikeys.create("Cổng dữ liệu tỉnh", [apikeys.SCOPE_INDICES], actor="admin")
    apikeys.create("Một cửa xã", list(apikeys.SCOPES), unit=names["commune"], actor="admin")
    return {**names, "unit_id": db.session.scalar(db.select(Unit.id).filter_by(code=names["commune"])),
            "user_id": db.session.scalar(db.select(User.id).filter_by(username="xa")), "responses": stored,
            "units": db.session.scalar(db.select(db.func.count()).select_from(Unit))}


# ----------------------------------------------------------------------------- the apps
def hermetic_environment() -> None:
    """No ``SIPAS_*`` setting of the shell reaches the apps (database, data directory, ...)."""
    for name in [n for n in os.environ if n.startswith("SIPAS_")]:
        del os.environ[name]


@dataclass
class Org:
    label: str
    app: object
    names: dict[str, object]
    clients: dict[str, object] = field(default_factory=dict)
    queries: list[int] = field(default_factory=lambda: [0])
    build_seconds: float = 0.0

    def path(self, template: str) -> str:
        return template.format(**self.names)

    def count_query(self, *_args: object) -> None:
        self.queries[0] += 1


@contextlib.contextmanager
def organisation(label: str, size: Size, database_url: str | None) -> Iterator[Org]:
    from sqlalchemy import event

    from benchmarks.dashboard_speed import _fresh_pg, _make_app
    from survey_app.extensions import db

    with tempfile.TemporaryDirectory(prefix=f"sipas-province-{label}-") as data_dir:
        url, drop = _fresh_pg(database_url) if database_url else (None, None)
        try:
            app = _make_app(url, data_dir)  # every setting in the app's config (and none from the shell)
            start = time.perf_counter()
            with app.app_context():
                names = build(size)
            org = Org(label, app, names, build_seconds=time.perf_counter() - start)
            with app.app_context():
                event.listen(db.engine, "before_cursor_execute", org.count_query)
            for role, user in (("commune", "xa"), ("department", "so"), ("admin", "admin"), ("analyst", "analyst")):
                org.clients[role] = login(app.test_client(), user)
            org.clients["anonymous"] = app.test_client()
            yield org
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        finally:
            if drop:
                drop()


def login(client, username: str):
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    reply = client.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert reply.status_code == 302, (username, reply.status_code)
    return client


@dataclass
class Timing:
    cold: float
    warm: list[float]
    queries: int
    kilobytes: float

    @property
    def median(self) -> float:
        return statistics.median(self.warm)


def timed(org: Org, role: str, template: str) -> tuple[float, int, float]:
    """Seconds, SQL statements and kilobytes of one GET (200 expected)."""
    path = org.path(template)
    before = org.queries[0]
    start = time.perf_counter()
    reply = org.clients[role].get(path)
    elapsed = time.perf_counter() - start
    assert reply.status_code == 200, (org.label, role, path, reply.status_code)
    return elapsed, org.queries[0] - before, len(reply.data) / 1024


def measure(orgs: list[Org], role: str, template: str, warm: int, cap: float) -> list[Timing]:
    """Cold on each organisation, then ``warm`` rounds alternating them (same load for both);
    2 rounds only when the first warm request took more than ``cap`` seconds (such a page
    misses the goal many times over, and 5 rounds of it would take minutes)."""
    cold = [timed(org, role, template) for org in orgs]
    rounds = [[timed(org, role, template) for org in orgs]]
    if max(r[0] for r in rounds[0]) > cap:
        warm = min(warm, 2)
    rounds += [[timed(org, role, template) for org in orgs] for _ in range(warm - 1)]
    return [Timing(cold[i][0], [r[i][0] for r in rounds], rounds[-1][i][1], rounds[-1][i][2])
            for i in range(len(orgs))]


def add_response(org: Org, seed: int) -> None:
    """One more answer in a commune, as a citizen's phone would store it: the dashboard's
    cached results are for the data before it."""
    import random

    import questionnaires
    from survey_app.services import catalog, codes, responses

    rng = random.Random(seed)
    q = questionnaires.load("sipas-2023")
    with org.app.app_context():
        _, [item] = codes.issue(unit=catalog.unit_by_code(org.names["commune"]), procedure=None, actor="xa")
        responses.store(codes.find(item.code), q, responses.validate(q, answers(q, rng)))


def after_new_response(orgs: list[Org]) -> list[dict]:
    """Each analyst page right after one new response (what an analyst meets during the day)."""
    rows = []
    for n, template in enumerate(ANALYST_PAGES):
        times = []
        for org in orgs:
            add_response(org, n)
            times.append(timed(org, "analyst", template))
        rows.append({"path": template, "small": times[0][0], "province": times[1][0]})
        print(f"  after a new response {template:30} {times[1][0]:7.3f} s", file=sys.stderr, flush=True)
    return rows


def healthz(org: Org, repeats: int = 21) -> float:
    return statistics.median(timed(org, "anonymous", "/healthz")[0] for _ in range(repeats))


# ----------------------------------------------------------------------------- suspected functions
def function_timings(org: Org, repeats: int = 3) -> dict[str, float]:
    """Median seconds of the functions the pages call that read every unit."""
    from survey_app.analyst import filters
    from survey_app.models import Unit
    from survey_app.services import catalog, rates
    from survey_app.services.catalog import descendant_ids

    def unit_id(code: str) -> int:
        from survey_app.extensions import db

        return db.session.scalar(db.select(Unit.id).filter_by(code=code))

    calls: dict[str, Callable[[], object]] = {
        "catalog.units_in_order()": catalog.units_in_order,
        "catalog.descendant_ids(commune)": lambda: descendant_ids(unit_id(org.names["commune"])),
        "catalog.descendant_ids(province)": lambda: descendant_ids(unit_id(org.names["province"])),
        "filters.unit_codes(commune)": lambda: filters.unit_codes(org.names["commune"]),
        "filters.unit_codes(department)": lambda: filters.unit_codes(org.names["dept"]),
        "filters.unit_codes(province)": lambda: filters.unit_codes(org.names["province"]),
        "rates.response_rates(all units)": lambda: rates.response_rates(unit_ids=None),
    }
    out = {}
    with org.app.app_context():
        for name, call in calls.items():
            times: list[float] = []
            while len(times) < repeats and sum(times) < 1.0:  # a slow one once is enough
                start = time.perf_counter()
                call()
                times.append(time.perf_counter() - start)
            out[name] = statistics.median(times)
    return out


def profile(org: Org, role: str, template: str, top: int = 14) -> str:
    """One warm request under cProfile: the project's functions (and templates) by cumulative
    time, then the most expensive functions of all by their own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    timed(org, role, template)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"survey_app|analysis/|jinja2/environment|wtforms/fields", top)
    stats.sort_stats("tottime").print_stats(8)
    text = re.sub(r"^.*?(?=\s+ncalls)", "", out.getvalue(), count=1, flags=re.S)
    return re.sub(str(Path(sys.prefix)) + r"/lib/python[\d.]+/site-packages/|" + str(Path.cwd()) + "/", "", text)


# ----------------------------------------------------------------------------- report
def report(result: dict) -> str:
    out = io.StringIO()
    prov, small = result["province"], result["small"]
    out.write(f"Province: {prov['units']:,} units ({result['size']['communes']:,} communes, "
              f"{result['size']['counters']} counters), {result['size']['procedures']:,} procedures, "
              f"{prov['responses']:,} responses, built in {prov['build_seconds']:.0f} s; small organisation: "
              f"{small['units']} units, {result['small_size']['procedures']} procedures, {small['responses']} "
              f"responses. Backend {result['backend']}, app at {result['app']}. "
              f"GET /healthz {result['healthz'] * 1000:.1f} ms (median of 21). "
              f"Goal: every page warm ≤ {GOAL_SECONDS} s on the province.\n\n")
    out.write("| role | page | small warm (s) | province cold (s) | province warm (s) | ÷ small | ÷ /healthz "
              "| SQL statements (small → province) | KB (small → province) | goal |\n"
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
    for row in result["pages"]:
        p, s = row["province"], row["small"]
        verdict = "met" if p["warm"] <= GOAL_SECONDS else "**NOT met**"
        if len(p["warm_all"]) < result["warm_requests"]:
            verdict += f" (median of {len(p['warm_all'])})"
        out.write(f"| {row['role']} | `{row['path']}` | {s['warm']:.3f} | {p['cold']:.3f} | {p['warm']:.3f} | "
                  f"{p['warm'] / s['warm']:.1f} | {p['warm'] / result['healthz']:.0f} | {s['queries']} → "
                  f"{p['queries']} | {s['kb']:.0f} → {p['kb']:.0f} | {verdict} |\n")
    if result["after_new_response"]:
        out.write("\nRight after one new response (the cached results are for the data before it; not in the exit "
                  "status):\n\n| page | small (s) | province (s) | ÷ small |\n|---|---:|---:|---:|\n")
        for row in result["after_new_response"]:
            out.write(f"| `{row['path']}` | {row['small']:.3f} | {row['province']:.3f} | "
                      f"{row['province'] / row['small']:.0f} |\n")
    out.write("\n| function (in an app context) | small (ms) | province (ms) | ÷ small |\n|---|---:|---:|---:|\n")
    for name, seconds in result["functions"]["province"].items():
        base = result["functions"]["small"][name]
        out.write(f"| `{name}` | {base * 1000:.1f} | {seconds * 1000:.1f} | {seconds / base:.0f} |\n")
    missed = [row for row in result["pages"] if row["province"]["warm"] > GOAL_SECONDS]
    out.write(f"\n{len(missed)} of {len(result['pages'])} pages miss the goal"
              + (": " + ", ".join(f"{r['role']} {r['path']}" for r in missed) if missed else "") + ".\n")
    return out.getvalue()


def app_version() -> str:
    """The commit the app was measured at (``+`` when the working tree has changes)."""
    import subprocess

    def git(*command: str) -> str:
        return subprocess.run(["git", *command], cwd=Path(__file__).resolve().parents[1], capture_output=True,
                              text=True, check=False).stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no")
    return (git("rev-parse", "--short", "HEAD") or "unknown") + ("+" if changed else "")


def run(args) -> tuple[dict, list[str]]:
    size = Size(communes=args.communes, counters=args.counters, departments=args.departments,
                sections=args.sections, branches=args.branches, procedures=args.procedures,
                responses=args.responses)
    small_size = Size(**{**SMALL.__dict__, "responses": min(args.responses, 40)})
    profiles: list[str] = []
    version = app_version()  # the code imported now is the code measured
    with organisation("small", small_size, args.postgres_url) as small, \
            organisation("province", size, args.postgres_url) as province:
        orgs = [small, province]
        print(f"built: small {small.build_seconds:.1f} s, province {province.build_seconds:.1f} s",
              file=sys.stderr, flush=True)
        base = healthz(province)
        rows = []
        for role, template in pages():
            if args.only and not re.search(args.only, province.path(template)):
                continue
            t_small, t_prov = measure(orgs, role, template, args.warm, args.cap)
            rows.append({"role": role, "path": province.path(template),
                         **{label: {"cold": t.cold, "warm": t.median, "warm_all": t.warm, "queries": t.queries,
                                    "kb": t.kilobytes} for label, t in (("small", t_small), ("province", t_prov))}})
            print(f"  {role:10} {rows[-1]['path']:45} {t_prov.median:7.3f} s", file=sys.stderr, flush=True)
            if args.profile and t_prov.median > args.profile_above:
                profiles.append(f"### {role} {rows[-1]['path']} (warm {t_prov.median:.3f} s)\n\n"
                                + profile(province, role, template))
        refreshed = after_new_response(orgs) if not args.only else []
        functions = {org.label: function_timings(org) for org in orgs}
        result = {"backend": "postgresql" if args.postgres_url else "sqlite", "app": version,
                  "size": size.__dict__,
                  "small_size": small_size.__dict__, "healthz": base, "warm_requests": args.warm, "pages": rows,
                  "after_new_response": refreshed, "functions": functions,
                  **{org.label: {"units": org.names["units"], "responses": org.names["responses"],
                                 "build_seconds": org.build_seconds} for org in orgs}}
    return result, profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--communes", type=int, default=3300)
    parser.add_argument("--counters", type=int, default=200, help="two a commune, in the first communes")
    parser.add_argument("--departments", type=int, default=30)
    parser.add_argument("--sections", type=int, default=4, help="sections per department")
    parser.add_argument("--branches", type=int, default=10, help="branches of the service centre")
    parser.add_argument("--procedures", type=int, default=2000)
    parser.add_argument("--responses", type=int, default=4000, help="5 per unit, over 800 units by default")
    parser.add_argument("--warm", type=int, default=5, help="warm requests per page (the median is reported)")
    parser.add_argument("--cap", type=float, default=5.0, metavar="SECONDS",
                        help="a page whose first warm request takes longer gets 2 warm requests, not --warm")
    parser.add_argument("--only", metavar="REGEX", help="only the pages whose path matches")
    parser.add_argument("--profile", action="store_true", help="print cProfile summaries of the slow pages")
    parser.add_argument("--profile-above", type=float, default=0.1, metavar="SECONDS")
    parser.add_argument("--postgres-url", help="PostgreSQL admin URL: each organisation gets a fresh database")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    hermetic_environment()
    result, profiles = run(args)
    print(report(result))
    for text in profiles:
        print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False))
    sys.exit(1 if any(row["province"]["warm"] > GOAL_SECONDS for row in result["pages"]) else 0)


if __name__ == "__main__":
    main()
