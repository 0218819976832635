"""The shipped questionnaire definitions load, and say exactly what methodology.md §1 says.

The expected wording is hard-coded here (copied from methodology.md §1.1) so this test runs
in CI without the shared reference folder. Any change to a published text must fail here:
a published version is immutable and a changed wording needs a new version number.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import unicodedata
from pathlib import Path

import pytest

import questionnaires
from questionnaires import (
    DEFINITIONS_DIR,
    Choice,
    Comment,
    Criterion,
    Element,
    Level,
    Option,
    Question,
    Questionnaire,
    Scale,
    available,
    load,
    load_file,
    load_text,
    parse_key,
)

# methodology.md §1.1, verbatim: code -> (element, vi, en)
SIPAS_CRITERIA = {
    "TC1": ("TC", "Cơ quan cung cấp thông tin về việc giải quyết thủ tục hành chính theo nhiều "
                  "hình thức, dễ tiếp cận, dễ hiểu",
            "Information about the procedure is offered in several forms, easy to reach and "
            "understand"),
    "TC2": ("TC", "Trụ sở cơ quan có biển hiệu, hướng dẫn rõ ràng, dễ thấy",
            "The office has clear, visible signs and directions"),
    "TC3": ("TC", "Trụ sở cơ quan sạch sẽ, văn minh", "The office is clean and orderly"),
    "TC4": ("TC", "Trang thiết bị đầy đủ, chất lượng tốt, giúp giải quyết công việc dễ dàng hơn",
            "Equipment is sufficient, of good quality, and makes the work easier"),
    "TT1": ("TT", "Quy định thủ tục hành chính được niêm yết công khai tại trụ sở dễ thấy, dễ hiểu",
            "Procedure rules are posted at the office, easy to see and understand"),
    "TT2": ("TT", "Thành phần hồ sơ phải nộp đúng quy định",
            "The documents required are as regulated"),
    "TT3": ("TT", "Mức phí/lệ phí phải nộp đúng quy định", "The fees charged are as regulated"),
    "TT4": ("TT", "Thời hạn giải quyết thủ tục hành chính đúng quy định",
            "The processing time is as regulated"),
    "CC1": ("CC", "Công chức có thái độ giao tiếp lịch sự, tôn trọng",
            "The civil servant is polite and respectful"),
    "CC2": ("CC", "Công chức cung cấp thông tin, trả lời kịp thời, đầy đủ",
            "The civil servant gives timely, complete information and answers"),
    "CC3": ("CC", "Công chức hướng dẫn kê khai hồ sơ dễ hiểu, hoàn thiện hồ sơ sau một lần "
                  "hướng dẫn",
            "Guidance is clear; the dossier is complete after one explanation"),
    "CC4": ("CC", "Công chức tuân thủ đúng quy định trong giải quyết công việc",
            "The civil servant follows the rules"),
    "CC5": ("CC", "Công chức tận tình trong quá trình giải quyết công việc",
            "The civil servant is dedicated and helpful throughout"),
    "KQ1": ("KQ", "Kết quả được trả đúng hẹn", "The result is returned on the appointed date"),
    "KQ2": ("KQ", "Kết quả có thông tin đầy đủ, chính xác",
            "The result's information is complete and accurate"),
    "KQ3": ("KQ", "Kết quả đảm bảo tính công bằng", "The result is fair"),
    "PA1": ("PA", "Cơ quan bố trí hình thức tiếp nhận phản ánh, kiến nghị, giúp người dân phản "
                  "ánh, kiến nghị dễ dàng",
            "Feedback channels exist and make feedback easy"),
    "PA2": ("PA", "Cơ quan tiếp nhận, xử lý phản ánh, kiến nghị đúng quy định",
            "Feedback is received and handled as regulated"),
    "PA3": ("PA", "Cơ quan thông báo kết quả xử lý phản ánh, kiến nghị kịp thời",
            "The outcome of feedback is notified promptly"),
}

SIPAS_ELEMENTS = {
    "TC": "Tiếp cận dịch vụ",
    "TT": "Thủ tục hành chính",
    "CC": "Công chức trực tiếp giải quyết công việc",
    "KQ": "Kết quả giải quyết thủ tục hành chính",
    "PA": "Tiếp nhận, xử lý phản ánh, kiến nghị",
}

SAT5 = [
    (1, "Rất không hài lòng", "Very dissatisfied"),
    (2, "Không hài lòng", "Dissatisfied"),
    (3, "Bình thường", "Neutral"),
    (4, "Hài lòng", "Satisfied"),
    (5, "Rất hài lòng", "Very satisfied"),
]

# methodology.md §1.1 lists them in lower case; the form capitalises the first letter.
EXPECTATIONS = {
    "MD1": "cung cấp thông tin",
    "MD2": "trụ sở, trang thiết bị",
    "MD3": "năng lực công chức",
    "MD4": "thái độ công chức",
    "MD5": "ứng dụng công nghệ thông tin, chuyển đổi số",
    "MD6": "quan tâm nhu cầu người dân",
    "MD7": "tiếp nhận, xử lý phản ánh, kiến nghị",
    "MD8": "chất lượng chính sách quan trọng",
    "MD9": "chất lượng dịch vụ hành chính công",
}

HL_TEXT = (
    "Nhìn chung, Ông/Bà hài lòng như thế nào về sự phục vụ của cơ quan khi giải quyết thủ tục "
    "hành chính này?"
)

DEMOGRAPHICS = {
    "respondent_type": ["ca_nhan", "to_chuc"],
    "gender": ["nam", "nu", "khac"],
    "age_group": ["18-25", "26-34", "35-49", "50-60", "60+"],
    "ethnicity": ["kinh", "khac"],
    "education": [
        "chua_di_hoc", "tieu_hoc", "trung_hoc_co_so", "trung_hoc_pho_thong",
        "cao_dang_dai_hoc", "tren_dai_hoc",
    ],
    "occupation": None,  # methodology names no list; checked separately
    "residence": ["thanh_thi", "nong_thon"],
}


@pytest.fixture(scope="module")
def sipas() -> Questionnaire:
    return load("sipas-2023")


@pytest.fixture(scope="module")
def tt01() -> Questionnaire:
    return load("tt01-counter")


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("đ", "d").replace("Đ", "D")


def _all_texts(q: Questionnaire) -> list[tuple[str, object]]:
    """Every language mapping of a questionnaire, with a readable name."""
    found: list[tuple[str, object]] = [("title", q.title)]
    for scale in q.scales:
        found += [(f"{scale.code}.{lv.value}", lv.label) for lv in scale.levels]
    for choice in q.choice_questions:
        found.append((choice.code, choice.text))
        found += [(f"{choice.code}.{o.value}", o.label) for o in choice.options]
    for element in q.elements:
        found.append((element.code, element.title))
        found += [(c.code, c.text) for c in element.criteria]
    if q.general is not None:
        found.append((q.general.code, q.general.text))
    if q.expectation_prompt is not None:
        found.append(("expectations", q.expectation_prompt))
    found += [(item.code, item.text) for item in q.expectations]
    if q.comment is not None:
        found.append(("comment", q.comment.text))
    return found


# --- discovery ---------------------------------------------------------------------------


def test_available_lists_shipped_definitions():
    shipped = available()
    assert ("sipas-2023", 1) in shipped
    assert ("tt01-counter", 1) in shipped
    assert shipped == sorted(shipped)
    assert all(isinstance(v, int) for _, v in shipped)


def test_definitions_dir_is_inside_the_package():
    package_dir = Path(questionnaires.__file__).resolve().parent
    assert package_dir / "definitions" == DEFINITIONS_DIR
    assert (DEFINITIONS_DIR / "sipas-2023" / "1.toml").is_file()


@pytest.mark.parametrize("qid,version", available(), ids=lambda v: str(v))
def test_every_shipped_definition_loads_and_matches_its_path(qid, version):
    q = load(qid, version)
    assert (q.id, q.version) == (qid, version)
    assert q.key == f"{qid}@{version}"
    assert Path(q.source) == DEFINITIONS_DIR / qid / f"{version}.toml"
    for name, texts in _all_texts(q):
        assert set(texts) == {"vi", "en"}, name
        assert texts["vi"].strip() and texts["en"].strip(), name
        assert texts["vi"] == texts["vi"].strip(), name
        assert unicodedata.is_normalized("NFC", texts["vi"]), f"{name} is not NFC"


@pytest.mark.parametrize("qid,version", available(), ids=lambda v: str(v))
def test_sha256_is_the_hash_of_the_file_bytes(qid, version):
    path = DEFINITIONS_DIR / qid / f"{version}.toml"
    q = load(qid, version)
    assert q.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert q.content == path.read_bytes().decode("utf-8")


def test_available_on_another_directory(tmp_path, sipas_text, write):
    write(sipas_text)
    write(sipas_text.replace("version = 1", "version = 2", 1), version=2)
    write(sipas_text.replace("version = 1", "version = 10", 1), version=10)
    (tmp_path / "sipas-2023" / "notes.toml").write_text("not a version", encoding="utf-8")
    (tmp_path / "sipas-2023" / "README.md").write_text("ignored", encoding="utf-8")
    (tmp_path / "stray.toml").write_text("not in an id folder", encoding="utf-8")
    assert available(tmp_path) == [("sipas-2023", 1), ("sipas-2023", 2), ("sipas-2023", 10)]
    assert available(str(tmp_path)) == available(tmp_path)
    assert available(tmp_path / "empty") == []


def test_newest_version_is_numeric_not_lexicographic(sipas_text, write, tmp_path):
    write(sipas_text)
    write(sipas_text.replace("version = 1", "version = 2", 1), version=2)
    write(sipas_text.replace("version = 1", "version = 10", 1), version=10)
    assert load("sipas-2023", directory=tmp_path).version == 10
    assert load("sipas-2023", 2, directory=tmp_path).version == 2
    assert load("sipas-2023@1", directory=tmp_path).version == 1


# --- load() arguments --------------------------------------------------------------------


def test_key_forms_agree(sipas):
    by_key = load("sipas-2023@1")
    by_args = load("sipas-2023", 1)
    assert by_key == by_args == sipas
    assert by_key.sha256 == by_args.sha256
    assert by_key.key == "sipas-2023@1"


def test_load_file_and_load_text_agree_with_load(sipas, sipas_path, sipas_text):
    assert load_file(sipas_path) == sipas
    assert load_file(str(sipas_path)) == sipas
    from_text = load_text(sipas_text)
    assert from_text.source == "<text>"
    assert from_text.sha256 == sipas.sha256
    assert from_text.elements == sipas.elements
    assert load_text(sipas_text, source="upload.toml").source == "upload.toml"


def test_copy_in_another_directory_loads_identically(sipas, sipas_text, write, tmp_path):
    path = write(sipas_text)
    copy = load("sipas-2023", directory=tmp_path)
    assert copy.source == str(path)
    assert copy.sha256 == sipas.sha256
    assert copy.elements == sipas.elements
    assert copy.answer_columns == sipas.answer_columns


def test_edited_file_is_reloaded(sipas_text, write, tmp_path):
    path = write(sipas_text)
    first = load("sipas-2023", directory=tmp_path)
    path.write_bytes(
        sipas_text.replace("Khảo sát sự hài lòng", "Phiếu khảo sát sự hài lòng", 1).encode()
    )
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = load("sipas-2023", directory=tmp_path)
    assert second.title["vi"].startswith("Phiếu khảo sát")
    assert second.sha256 != first.sha256


def test_unknown_id_names_the_known_ones():
    with pytest.raises(LookupError) as info:
        load("sipas-2099")
    message = str(info.value)
    assert "sipas-2099" in message
    assert "sipas-2023" in message and "tt01-counter" in message


@pytest.mark.parametrize("call", [
    pytest.param(lambda: load("sipas-2023", 2), id="version-argument"),
    pytest.param(lambda: load("sipas-2023@2"), id="key-form"),
])
def test_unknown_version_names_the_known_ones(call):
    with pytest.raises(LookupError) as info:
        call()
    message = str(info.value)
    assert "sipas-2023" in message
    assert "version 2" in message
    assert "[1]" in message


def test_unknown_id_in_empty_directory(tmp_path):
    with pytest.raises(LookupError, match="unknown questionnaire 'sipas-2023'"):
        load("sipas-2023", directory=tmp_path)


@pytest.mark.parametrize("key,expected", [
    ("sipas-2023@1", ("sipas-2023", 1)),
    ("sipas-2023@12", ("sipas-2023", 12)),
    ("sipas-2023", ("sipas-2023", None)),
    ("tt01-counter@1", ("tt01-counter", 1)),
])
def test_parse_key(key, expected):
    assert parse_key(key) == expected


@pytest.mark.parametrize("key", ["sipas-2023@one", "sipas-2023@-1", "sipas-2023@1.0"])
def test_parse_key_rejects_non_numeric_versions(key):
    with pytest.raises(ValueError, match="whole number"):
        parse_key(key)
    with pytest.raises(ValueError, match="whole number"):
        load(key)


# --- sipas-2023 content (methodology.md §1.1) -------------------------------------------


def test_sipas_identity(sipas):
    assert (sipas.id, sipas.version, sipas.key) == ("sipas-2023", 1, "sipas-2023@1")
    assert sipas.title["vi"].startswith("Khảo sát sự hài lòng của người dân")
    assert sipas.title["en"]
    assert sipas.intro["vi"] and sipas.intro["en"]


def test_sipas_elements_in_order(sipas):
    assert [e.code for e in sipas.elements] == ["TC", "TT", "CC", "KQ", "PA"]
    assert {e.code: e.title["vi"] for e in sipas.elements} == SIPAS_ELEMENTS
    assert all(e.title["en"] != e.title["vi"] for e in sipas.elements)


def test_sipas_has_exactly_the_19_criteria_in_order(sipas):
    assert [c.code for c in sipas.criteria] == list(SIPAS_CRITERIA)
    assert len(sipas.criteria) == 19
    sizes = {e.code: [c.code for c in e.criteria] for e in sipas.elements}
    assert sizes == {
        "TC": ["TC1", "TC2", "TC3", "TC4"],
        "TT": ["TT1", "TT2", "TT3", "TT4"],
        "CC": ["CC1", "CC2", "CC3", "CC4", "CC5"],
        "KQ": ["KQ1", "KQ2", "KQ3"],
        "PA": ["PA1", "PA2", "PA3"],
    }


@pytest.mark.parametrize("code", list(SIPAS_CRITERIA))
def test_sipas_criterion_text_is_verbatim(sipas, code):
    element, vi, en = SIPAS_CRITERIA[code]
    criterion = sipas.criterion(code)
    assert criterion.element == element
    assert criterion.text["vi"] == vi
    assert criterion.text["en"] == en
    # Diacritics survived: the text is not its own accent-stripped form.
    assert _strip_marks(criterion.text["vi"]) != criterion.text["vi"]
    assert not criterion.text["vi"].isascii()
    assert criterion.scale.code == "sat5"


def test_criterion_lookup_by_unknown_code(sipas):
    with pytest.raises(KeyError):
        sipas.criterion("TC9")


def test_sat5_scale(sipas):
    scale = sipas.scales[0]
    assert scale.code == "sat5"
    assert [(lv.value, lv.label["vi"], lv.label["en"]) for lv in scale.levels] == SAT5
    assert scale.values == (1, 2, 3, 4, 5)
    assert scale.max == 5
    assert scale.satisfied == frozenset({4, 5})
    assert scale.label(1) == "Rất không hài lòng"
    assert scale.label(5, "en") == "Very satisfied"
    with pytest.raises(KeyError):
        scale.label(6)
    assert all(c.scale == scale for c in sipas.criteria)


def test_pa_criteria_are_gated_on_feedback(sipas):
    gated = {c.code: dict(c.asked_if) for c in sipas.criteria if c.asked_if}
    assert gated == {code: {"feedback_given": "co"} for code in ("PA1", "PA2", "PA3")}
    [condition] = sipas.conditions
    assert condition.code == "feedback_given"
    assert condition.text["vi"] == "Ông/Bà có phản ánh, kiến nghị với cơ quan không?"
    assert condition.values == ("co", "khong")
    assert [o.label["vi"] for o in condition.options] == ["Có", "Không"]


def test_general_question(sipas):
    assert sipas.general is not None
    assert sipas.general.code == "HL"
    assert sipas.general.text["vi"] == HL_TEXT
    assert sipas.general.text["en"].startswith("Overall")
    assert sipas.general.scale == sipas.scales[0]


def test_expectations(sipas):
    assert [q.code for q in sipas.expectations] == list(EXPECTATIONS)
    assert {q.code: q.text["vi"].lower() for q in sipas.expectations} == EXPECTATIONS
    assert all(q.text["vi"][0].isupper() for q in sipas.expectations)
    assert all(q.text["en"] for q in sipas.expectations)
    assert sipas.expectation_prompt is not None
    assert "Nhà nước cần ưu tiên nguồn lực để cải thiện" in sipas.expectation_prompt["vi"]
    scale = sipas.expectations[0].scale
    assert all(q.scale == scale for q in sipas.expectations)
    assert scale.code == "need3"
    assert {lv.value: lv.label["vi"] for lv in scale.levels} == {
        3: "Rất nhiều", 2: "Nhiều", 1: "Ít",
    }
    assert scale.values == (1, 2, 3)


def test_demographics(sipas):
    assert [d.code for d in sipas.demographics] == list(DEMOGRAPHICS)
    for choice in sipas.demographics:
        expected = DEMOGRAPHICS[choice.code]
        if expected is not None:
            assert list(choice.values) == expected, choice.code
    education = next(d for d in sipas.demographics if d.code == "education")
    assert len(education.options) == 6
    assert education.options[0].label["vi"] == "Chưa đi học"
    assert education.options[-1].label["vi"] == "Trên đại học"
    occupation = next(d for d in sipas.demographics if d.code == "occupation")
    assert len(occupation.options) >= 2
    assert sipas.choice_questions == (*sipas.conditions, *sipas.demographics)


def test_comment(sipas):
    assert sipas.comment is not None
    assert sipas.comment.max_length == 2000
    assert sipas.comment.text["vi"] and sipas.comment.text["en"]


def test_answer_columns_order(sipas):
    expected = (*SIPAS_CRITERIA, "HL", *EXPECTATIONS)
    assert sipas.answer_columns == expected
    assert len(expected) == 29
    assert [q.code for q in sipas.rated_questions] == list(expected)
    codes = [*sipas.answer_columns, *(c.code for c in sipas.choice_questions)]
    assert len(codes) == len(set(codes)), "field codes must be unique"


# --- tt01-counter content (methodology.md §1.2) -----------------------------------------


def test_tt01_counter(tt01):
    assert tt01.key == "tt01-counter@1"
    assert [e.code for e in tt01.elements] == ["DG"]
    assert [c.code for c in tt01.criteria] == ["DG1", "DG2", "DG3"]
    for criterion in tt01.criteria:
        assert criterion.scale.values == (1, 2, 3), criterion.code
        assert criterion.scale.satisfied == frozenset({2, 3}), criterion.code
        assert not criterion.asked_if
    assert [c.scale.code for c in tt01.criteria] == ["sat3", "contacts3", "ontime3"]
    assert tt01.general is not None and tt01.general.code == "HL"
    assert [lv.label["vi"] for lv in tt01.general.scale.levels] == [
        "Không hài lòng", "Hài lòng", "Rất hài lòng",
    ]
    assert tt01.general.scale.satisfied == frozenset({2, 3})
    assert tt01.conditions == () and tt01.demographics == () and tt01.expectations == ()
    assert tt01.expectation_prompt is None
    assert tt01.comment is not None and tt01.comment.max_length == 2000
    assert tt01.answer_columns == ("DG1", "DG2", "DG3", "HL")


def test_tt01_scales_follow_the_regulation(tt01):
    labels = {s.code: [lv.label["vi"] for lv in s.levels] for s in tt01.scales}
    assert labels["contacts3"] == ["Nhiều hơn 1 lần", "1 lần", "Không phải liên hệ lần nào"]
    assert labels["ontime3"] == ["Trễ hẹn", "Đúng hẹn", "Sớm hơn hẹn"]


# --- immutability ------------------------------------------------------------------------

FROZEN_OBJECTS = {
    "questionnaire": lambda q: q,
    "scale": lambda q: q.scales[0],
    "level": lambda q: q.scales[0].levels[0],
    "condition": lambda q: q.conditions[0],
    "option": lambda q: q.conditions[0].options[0],
    "element": lambda q: q.elements[0],
    "criterion": lambda q: q.criteria[0],
    "general": lambda q: q.general,
    "expectation": lambda q: q.expectations[0],
    "comment": lambda q: q.comment,
}


@pytest.mark.parametrize("name", list(FROZEN_OBJECTS))
def test_objects_are_frozen(sipas, name):
    obj = FROZEN_OBJECTS[name](sipas)
    assert dataclasses.is_dataclass(obj)
    field = dataclasses.fields(obj)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, field, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(obj, field)


def test_object_types(sipas):
    assert isinstance(sipas, Questionnaire)
    assert all(isinstance(s, Scale) for s in sipas.scales)
    assert all(isinstance(lv, Level) for s in sipas.scales for lv in s.levels)
    assert all(isinstance(c, Choice) for c in sipas.choice_questions)
    assert all(isinstance(o, Option) for c in sipas.choice_questions for o in c.options)
    assert all(isinstance(e, Element) for e in sipas.elements)
    assert all(isinstance(c, Criterion) for c in sipas.criteria)
    assert all(isinstance(q, Question) for q in (sipas.general, *sipas.expectations))
    assert isinstance(sipas.comment, Comment)


MAPPINGS = {
    "title": lambda q: q.title,
    "intro": lambda q: q.intro,
    "level-label": lambda q: q.scales[0].levels[0].label,
    "condition-text": lambda q: q.conditions[0].text,
    "option-label": lambda q: q.demographics[0].options[0].label,
    "element-title": lambda q: q.elements[0].title,
    "criterion-text": lambda q: q.criteria[0].text,
    "asked-if": lambda q: q.criterion("PA1").asked_if,
    "general-text": lambda q: q.general.text,
    "expectation-prompt": lambda q: q.expectation_prompt,
    "comment-text": lambda q: q.comment.text,
}


@pytest.mark.parametrize("name", list(MAPPINGS))
def test_mappings_are_read_only(sipas, name):
    mapping = MAPPINGS[name](sipas)
    key = next(iter(mapping))
    with pytest.raises(TypeError):
        mapping[key] = "changed"  # type: ignore[index]
    with pytest.raises(TypeError):
        del mapping[key]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        mapping["xx"] = "new"  # type: ignore[index]


def test_collections_are_immutable(sipas):
    assert isinstance(sipas.elements, tuple)
    assert isinstance(sipas.scales, tuple)
    assert isinstance(sipas.scales[0].levels, tuple)
    assert isinstance(sipas.scales[0].satisfied, frozenset)
    assert isinstance(sipas.elements[0].criteria, tuple)
    assert isinstance(sipas.expectations, tuple)
    assert isinstance(sipas.demographics, tuple)
    assert isinstance(sipas.demographics[0].options, tuple)

