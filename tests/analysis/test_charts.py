"""What the charts say: a name and a description in words for screen readers (every number
they draw), words rather than codes, one width for all, and the funnel's n axis from 0."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

from analysis import charts
from analysis.compare import funnel
from analysis.results import Estimate

SVG = "{http://www.w3.org/2000/svg}"


def _estimate(value: float, flag: str | None = None) -> Estimate:
    return Estimate(value=value, se=1.0, ci=(value - 2.0, value + 2.0), n=120, flag=flag)


def _read(svg: str) -> tuple[ET.Element, str, str, list[str]]:
    """The root, its accessible name and description, and the texts it draws."""
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert root.get("aria-labelledby") == title.get("id") and root.get("aria-describedby") == desc.get("id")
    drawn = ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]
    return root, title.text, desc.text, [t for t in drawn if t]


def test_every_chart_is_named_described_and_drawn_at_one_width():
    drawn = [
        charts.units_chart(names=["Phòng Lãnh sự", "Văn phòng Sở"], series=[("Chung", [_estimate(82.25), None])],
                           targets=[("2026", 80.0)], lang="vi", title="Các đơn vị"),
        charts.elements_chart(names=["Tiếp cận dịch vụ"], estimates=[_estimate(70.0, "small n")], targets=[75.0],
                              lang="vi", title="Các yếu tố"),
        charts.trend_chart(periods=["Quý I/2026", "Quý II/2026"], target=85.0, lang="vi", title="Diễn biến",
                           series=[("Chỉ số SIPAS", [_estimate(60), _estimate(64)])]),
        charts.change_chart(names=["Phòng Lãnh sự"], lang="vi", title="Thay đổi",
                            differences=[SimpleNamespace(estimate=3.5, ci=(1.5, 5.5), significant=True)]),
    ]
    widths = set()
    for svg in drawn:
        root, title, desc, texts = _read(svg)
        widths.add(root.get("width"))
        assert title not in texts  # the title is the page's caption, not drawn over the chart
        assert re.search(r"\d+,\d (%|điểm %)", desc), desc
    assert widths == {f"{charts.WIDTH * 72:g}pt"}
    _, _, desc, _ = _read(drawn[0])
    assert desc == ("Phòng Lãnh sự: 82,2 % (Khoảng tin cậy: 80,2–84,2 %; n = 120). Văn phòng Sở: không có dữ liệu. "
                    "Mục tiêu 2026: 80,0 %.")
    assert "không đủ dữ liệu" in _read(drawn[1])[2] and "mục tiêu 75,0 %" in _read(drawn[1])[2]
    assert "Quý II/2026: Chỉ số SIPAS 64,0 %" in _read(drawn[2])[2]
    assert "+3,5 điểm %" in _read(drawn[3])[2] and "có ý nghĩa thống kê: có" in _read(drawn[3])[2]


def test_criteria_are_rows_of_words_and_english_is_english():
    svg = charts.criteria_chart(codes=["CC3"], texts=["Công chức hướng dẫn kê khai hồ sơ dễ hiểu, hoàn thiện hồ sơ "
                                                      "sau một lần hướng dẫn"],
                                estimates=[_estimate(56.9)], lang="vi", title="Tiêu chí")
    _, _, desc, texts = _read(svg)
    assert any(t.startswith("CC3 · Công chức hướng dẫn") for t in texts)  # wrapped over lines, not cut
    assert "sau một lần hướng dẫn" in " ".join(texts)
    assert desc.startswith("CC3 · Công chức") and "56,9 %" in desc
    english = charts.criteria_chart(codes=["CC3"], texts=["Staff explain clearly"], estimates=[_estimate(56.9)],
                                    lang="en", title="Criteria")
    assert "56.9 % (Confidence interval: 54.9–58.9 %; n = 120)" in _read(english)[2]


def test_the_funnel_names_units_and_its_n_axis_starts_at_zero():
    fun = funnel(x=[40, 180, 290], n=[50, 200, 400], labels=["LS", "HT", "VP"])
    svg = charts.funnel_chart(fun=fun, lang="vi", title="Phễu",
                              names={"LS": "Phòng Lãnh sự", "HT": "Phòng Hợp tác quốc tế", "VP": "Văn phòng Sở"})
    _, _, desc, texts = _read(svg)
    assert {"Phòng Lãnh sự", "Văn phòng Sở"} <= set(texts) and not {"LS", "HT", "VP"} & set(texts)
    assert "0" in texts  # the n axis
    assert fun.curve["n"][0] < 50  # the limits reach below the smallest unit: they visibly narrow
    assert "Phòng Hợp tác quốc tế: 90,0 %, n = 200, trên giới hạn 99,8 % (khác biệt rõ)." in desc
    assert "Văn phòng Sở: 72,5 %, n = 400, dưới giới hạn 95 % (cần xem xét)." in desc


def test_a_province_funnel_names_the_units_outside_the_limits_and_the_ends_at_most_thirty():
    """800 labels took adjustText 15-25 s and nobody reads them: of many units the chart names
    those outside the limits (farthest first) and the highest and the lowest, at most 30, and
    says so in its description; every unit is still described."""
    n = [20 + (i * 7) % 180 for i in range(400)]
    x = [round(k * (0.2 if i % 9 == 0 else 0.98 if i % 11 == 0 else 0.7)) for i, k in enumerate(n)]
    fun = funnel(x=x, n=n, labels=[f"U{i}" for i in range(400)])
    outside = [p for p in fun.points if p.signal]
    assert len(outside) > 30
    names = {p.label: f"Xã {p.label[1:]}" for p in fun.points}
    _, _, desc, texts = _read(charts.funnel_chart(fun=fun, lang="vi", title="Phễu", names=names))
    named = [t for t in texts if t.startswith("Xã ")]
    assert len(named) == 30
    ends = [max(fun.points, key=lambda p: (p.index, p.n)), min(fun.points, key=lambda p: (p.index, -p.n))]
    assert {names[p.label] for p in ends} <= set(named)
    farthest = max((p for p in outside if p.signal.endswith("99.8")),
                   key=lambda p: max(p.index - p.limits95[1], p.limits95[0] - p.index)
                   / (p.limits95[1] - p.limits95[0]))
    assert names[farthest.label] in named
    assert f"Biểu đồ ghi tên 30 trong 400 đơn vị (nhiều nhất 30): các đơn vị nằm ngoài giới hạn 95 % " \
           f"({len(outside)} đơn vị" in desc
    assert all(f"{names[p.label]}: " in desc for p in fun.points)


def test_the_importance_chart_names_its_quadrants_and_lists_them_in_words():
    def criterion(code, importance, performance, quadrant):
        return SimpleNamespace(code=code, importance=importance, shapley=None, performance=performance,
                               quadrant=quadrant)
    priorities = SimpleNamespace(measure="correlation", importance_cut=0.5, performance_cut=70.0, criteria=(
        criterion("TT1", 0.6, 55.0, "concentrate"), criterion("CC1", 0.4, 80.0, "overkill"),
        criterion("CC2", 0.41, 80.5, "overkill"), criterion("KQ1", 0.62, 85.0, "keep_up")))
    _, _, desc, texts = _read(charts.ipa_chart(priorities=priorities, lang="vi", title="Ưu tiên"))
    assert {"Tập trung cải thiện", "Duy trì", "Ưu tiên thấp", "Có thể đang đầu tư quá mức"} <= set(texts)
    assert desc.startswith("Tập trung cải thiện: TT1 (mức hài lòng 55,0 %, mức quan trọng 0,60).")
    assert "Có thể đang đầu tư quá mức: CC1 (mức hài lòng 80,0 %, mức quan trọng 0,40); CC2" in desc
