"""A broken definition file is refused with a QuestionnaireError naming file, place, problem.

Each case is the shipped sipas-2023 text with one small edit, written to
``tmp_path/sipas-2023/1.toml`` and loaded from there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from questionnaires import QuestionnaireError, load, load_file, load_text


def edit(text: str, *replacements: tuple) -> str:
    """Apply ``(old, new[, count])`` replacements (count 1 by default, -1 for all). A
    missing ``old`` fails the test, so no case silently degrades to the unbroken file."""
    for old, new, *count in replacements:
        assert old in text, f"definition changed: {old!r} no longer occurs"
        text = text.replace(old, new, *(count or [1]))
    return text


def assert_error(info: pytest.ExceptionInfo, path, place: str, problem: str) -> None:
    err = info.value
    assert isinstance(err, ValueError)
    assert err.source == str(path)
    assert err.place == place
    assert problem in err.problem
    expected = f"{path}: {place}: {err.problem}" if place else f"{path}: {err.problem}"
    assert str(err) == expected


def case(case_id: str, replacements: list[tuple], place: str, problem: str):
    return pytest.param(replacements, place, problem, id=case_id)


HL_VI = 'vi = "Nhìn chung, Ông/Bà hài lòng'
SIPAS_NEED3_0_BASED = [
    ('{ value = 1, vi = "Ít"', '{ value = 0, vi = "Ít"'),
    ('{ value = 2, vi = "Nhiều"', '{ value = 1, vi = "Nhiều"'),
    ('{ value = 3, vi = "Rất nhiều"', '{ value = 2, vi = "Rất nhiều"'),
]
MISSING_VI = "Vietnamese text ('vi') is missing"
DUPLICATE = "duplicate code"
SATISFIED = "satisfied must list values of the scale ([1, 2, 3, 4, 5])"
MAX_LENGTH = "must be a whole number from 1 to 10000"
WHOLE_VERSION = "must be a whole number from 1 up"
BAD_CODE = "must be a letter followed by letters, digits or _"

CASES = [
    # TOML syntax
    case("invalid-toml-unclosed-string", [('id = "sipas-2023"', 'id = "sipas-2023')],
         "", "is not valid TOML"),
    case("invalid-toml-duplicate-key", [('code = "TC1"\n', 'code = "TC1"\ncode = "TC2"\n')],
         "", "is not valid TOML"),
    # codes
    case("duplicate-criterion-code", [('code = "TC4"', 'code = "TC3"')],
         "criteria[3]", "duplicate code 'TC3' (first defined at criteria[2])"),
    case("criterion-code-equals-element-code", [('code = "TC1"', 'code = "TC"')],
         "criteria[0]", "duplicate code 'TC' (first defined at elements[0])"),
    case("duplicate-element-code", [('code = "TT"', 'code = "TC"')],
         "elements[1]", "duplicate code 'TC' (first defined at elements[0])"),
    case("general-code-equals-criterion", [('[general]\ncode = "HL"', '[general]\ncode = "KQ1"')],
         "[general]", "duplicate code 'KQ1' (first defined at criteria[13])"),
    case("duplicate-expectation-code", [('{ code = "MD9"', '{ code = "MD1"')],
         "expectations.items[8]", "duplicate code 'MD1' (first defined at expectations.items[0])"),
    case("demographic-code-equals-condition",
         [('code = "residence"', 'code = "feedback_given"')],
         "demographics[6]", "duplicate code 'feedback_given' (first defined at conditions[0])"),
    case("reserved-code-demographic", [('code = "residence"', 'code = "comment"')],
         "demographics[6]", "code 'comment' is reserved"),
    case("reserved-code-criterion", [('code = "TC1"', 'code = "lang"')],
         "criteria[0]", "code 'lang' is reserved"),
    case("reserved-code-element", [('code = "TC"\n', 'code = "unit"\n')],
         "elements[0]", "code 'unit' is reserved"),
    case("reserved-code-expectation", [('{ code = "MD1"', '{ code = "response_id"')],
         "expectations.items[0]", "code 'response_id' is reserved"),
    case("reserved-code-condition", [('code = "feedback_given"', 'code = "csrf_token"')],
         "conditions[0]", "code 'csrf_token' is reserved"),
    case("code-starting-with-digit", [('code = "TC1"', 'code = "1TC"')],
         "criteria[0]", f"code '1TC' {BAD_CODE}"),
    case("code-with-dash", [('code = "TC1"', 'code = "TC-1"')],
         "criteria[0]", f"code 'TC-1' {BAD_CODE}"),
    case("code-too-long", [('code = "TC1"', 'code = "T' + "C" * 32 + '"')],
         "criteria[0]", BAD_CODE),
    case("code-missing", [('code = "TC1"\n', '')],
         "criteria[0]", f"code None {BAD_CODE}"),
    case("code-not-a-string", [('code = "TC1"', 'code = 1')],
         "criteria[0]", f"code 1 {BAD_CODE}"),
    # references between parts
    case("unknown-element", [('element = "TC"', 'element = "TX"')],
         "criteria[0] (TC1)", "unknown element 'TX'; elements: TC, TT, CC, KQ, PA"),
    case("element-missing", [('element = "TC"\n', '')],
         "criteria[0] (TC1)", "unknown element None"),
    case("element-as-list", [('element = "TC"', 'element = ["TC", "TT"]')],
         "criteria[0] (TC1)", "unknown element ['TC', 'TT']"),
    case("unknown-scale-criterion",
         [('code = "TC3"\nelement = "TC"\nscale = "sat5"',
           'code = "TC3"\nelement = "TC"\nscale = "sat7"')],
         "criteria[2] (TC3)", "unknown scale 'sat7'; defined scales: sat5, need3"),
    case("scale-as-table",
         [('code = "TC3"\nelement = "TC"\nscale = "sat5"',
           'code = "TC3"\nelement = "TC"\nscale = { code = "sat5" }')],
         "criteria[2] (TC3)", "unknown scale {'code': 'sat5'}"),
    case("unknown-scale-general", [('[general]\ncode = "HL"\nscale = "sat5"',
                                    '[general]\ncode = "HL"\nscale = "sat4"')],
         "[general]", "unknown scale 'sat4'"),
    case("unknown-scale-expectations", [('scale = "need3"', 'scale = "need5"')],
         "[expectations]", "unknown scale 'need5'"),
    case("asked-if-unknown-condition",
         [('asked_if = { feedback_given = "co" }', 'asked_if = { feedback = "co" }')],
         "criteria[16] (PA1).asked_if", "unknown condition 'feedback'"),
    case("asked-if-unknown-option",
         [('asked_if = { feedback_given = "co" }', 'asked_if = { feedback_given = "yes" }')],
         "criteria[16] (PA1).asked_if", "'yes' is not an option of 'feedback_given'"),
    case("asked-if-not-a-table",
         [('asked_if = { feedback_given = "co" }', 'asked_if = "feedback_given"')],
         "criteria[16] (PA1).asked_if", "must be a table"),
    case("element-without-criteria",
         [('[[elements]]\ncode = "PA"', '[[elements]]\ncode = "XX"\nvi = "Khác"\n\n'
                                        '[[elements]]\ncode = "PA"')],
         "elements[4] (XX)", "has no criteria"),
    # Vietnamese text missing ('vi' misspelt 'vn')
    case("missing-vi-criterion", [('vi = "Trang thiết bị', 'vn = "Trang thiết bị')],
         "criteria[3] (TC4)", MISSING_VI),
    case("missing-vi-element", [('vi = "Thủ tục hành chính"\n', 'vn = "Thủ tục hành chính"\n')],
         "elements[1]", MISSING_VI),
    case("missing-vi-level", [('vi = "Bình thường"', 'vn = "Bình thường"')],
         "scales[0].levels[2]", MISSING_VI),
    case("missing-vi-option", [('vi = "Nữ"', 'vn = "Nữ"')],
         "demographics[1].options[1]", MISSING_VI),
    case("missing-vi-title", [('vi = "Khảo sát sự hài lòng', 'vn = "Khảo sát sự hài lòng')],
         "[title]", MISSING_VI),
    case("missing-vi-intro", [('vi = "Phiếu khảo sát', 'vn = "Phiếu khảo sát')],
         "[intro]", MISSING_VI),
    case("missing-vi-condition", [('vi = "Ông/Bà có phản ánh', 'vn = "Ông/Bà có phản ánh')],
         "conditions[0]", MISSING_VI),
    case("missing-vi-general", [(HL_VI, HL_VI.replace("vi =", "vn ="))],
         "[general]", MISSING_VI),
    case("missing-vi-expectation-prompt", [('vi = "Theo Ông/Bà', 'vn = "Theo Ông/Bà')],
         "[expectations]", MISSING_VI),
    case("missing-vi-expectation-item", [('{ code = "MD2", vi =', '{ code = "MD2", vn =')],
         "expectations.items[1]", MISSING_VI),
    case("missing-vi-demographic", [('vi = "Giới tính"', 'vn = "Giới tính"')],
         "demographics[1]", MISSING_VI),
    case("missing-vi-comment", [('vi = "Ông/Bà có góp ý', 'vn = "Ông/Bà có góp ý')],
         "[comment]", MISSING_VI),
    case("missing-title", [('[title]\n', '[heading]\n')], "[title]", "must be a table"),
    # empty or non-string text
    case("empty-vi-criterion", [('vi = "Trụ sở cơ quan sạch sẽ, văn minh"', 'vi = ""')],
         "criteria[2] (TC3)", "text 'vi' must be a non-empty string"),
    case("blank-vi-criterion", [('vi = "Trụ sở cơ quan sạch sẽ, văn minh"', 'vi = " \\t "')],
         "criteria[2] (TC3)", "text 'vi' must be a non-empty string"),
    case("empty-en-criterion", [('en = "The office is clean and orderly"', 'en = ""')],
         "criteria[2] (TC3)", "text 'en' must be a non-empty string"),
    case("vi-not-a-string", [('vi = "Trụ sở cơ quan sạch sẽ, văn minh"', 'vi = 3')],
         "criteria[2] (TC3)", "text 'vi' must be a non-empty string"),
    case("empty-level-label", [('vi = "Bình thường"', 'vi = ""')],
         "scales[0].levels[2]", "text 'vi' must be a non-empty string"),
    case("empty-element-title", [('vi = "Tiếp cận dịch vụ"', 'vi = ""')],
         "elements[0]", "text 'vi' must be a non-empty string"),
    case("empty-title", [('vi = "Khảo sát sự hài lòng của người dân, tổ chức đối với sự phục vụ '
                          'của cơ quan hành chính nhà nước"', 'vi = ""')],
         "[title]", "text 'vi' must be a non-empty string"),
    # scales
    case("scale-with-gap", [('{ value = 3, vi = "Rất nhiều"', '{ value = 4, vi = "Rất nhiều"')],
         "scales[1]", "levels must be numbered 1..3 in order without gaps; got [1, 2, 4]"),
    case("scale-not-starting-at-1", SIPAS_NEED3_0_BASED,
         "scales[1]", "levels must be numbered 1..3 in order without gaps; got [0, 1, 2]"),
    case("scale-in-reverse-order",
         [('{ value = 1, vi = "Ít"', '{ value = 3, vi = "Ít"'),
          ('{ value = 3, vi = "Rất nhiều"', '{ value = 1, vi = "Rất nhiều"')],
         "scales[1]", "got [3, 2, 1]"),
    case("level-value-string", [('{ value = 3, vi = "Bình', '{ value = "3", vi = "Bình')],
         "scales[0].levels[2]", "value must be a whole number"),
    case("level-value-float", [('{ value = 3, vi = "Bình', '{ value = 3.0, vi = "Bình')],
         "scales[0].levels[2]", "value must be a whole number"),
    case("level-value-bool", [('{ value = 1, vi = "Rất không', '{ value = true, vi = "Rất không')],
         "scales[0].levels[0]", "value must be a whole number"),
    case("scale-with-one-level",
         [('satisfied = [2, 3]\nlevels = [', 'satisfied = [1]\nlevels = [{ value = 1, vi = "Có" }]'
                                             '\nunused = [')],
         "scales[1]", "a scale needs at least two levels"),
    case("scale-without-code", [('code = "sat5"', 'name = "sat5"')],
         "scales[0]", "a scale needs a code"),
    case("duplicate-scale-code", [('code = "need3"', 'code = "sat5"')],
         "scales[1]", "duplicate scale code 'sat5'"),
    case("satisfied-outside-scale", [('satisfied = [4, 5]', 'satisfied = [5, 6]')],
         "scales[0]", SATISFIED),
    case("satisfied-zero", [('satisfied = [4, 5]', 'satisfied = [0]')], "scales[0]", SATISFIED),
    case("satisfied-empty", [('satisfied = [4, 5]', 'satisfied = []')], "scales[0]", SATISFIED),
    case("satisfied-missing", [('satisfied = [4, 5]\n', '')], "scales[0]", SATISFIED),
    case("satisfied-strings", [('satisfied = [4, 5]', 'satisfied = ["4", "5"]')],
         "scales[0]", SATISFIED),
    case("satisfied-nested-list", [('satisfied = [4, 5]', 'satisfied = [[4, 5]]')],
         "scales[0]", SATISFIED),
    case("satisfied-bool", [('satisfied = [4, 5]', 'satisfied = [true]')],
         "scales[0]", SATISFIED),
    # choices
    case("choice-with-one-option",
         [('{ value = "to_chuc", vi = "Tổ chức/doanh nghiệp", en = "An organisation or business" }'
           ',', '')],
         "demographics[0]", "needs at least two options"),
    case("duplicate-option-value", [('{ value = "nu"', '{ value = "nam"')],
         "demographics[1].options[1]", "duplicate option value 'nam'"),
    case("empty-option-value", [('{ value = "nu"', '{ value = ""')],
         "demographics[1].options[1]", "value must be a short non-empty string"),
    case("option-value-not-a-string", [('{ value = "nu"', '{ value = 2')],
         "demographics[1].options[1]", "value must be a short non-empty string"),
    # required sections
    case("criteria-missing", [('[[criteria]]', '[[criterion]]', -1)], "[[criteria]]", "is missing"),
    case("elements-missing",
         [('[[elements]]', '[[element]]', -1)], "[[elements]]", "is missing"),
    case("scales-missing", [('[[scales]]', '[[scale]]', -1)], "[[scales]]", "is missing"),
    case("expectations-without-items", [('items = [', 'items = []\nunused = [')],
         "[expectations].items", "must list at least one item"),
    case("intro-not-a-table",
         [('default_language = "vi"', 'default_language = "vi"\nintro = "Xin chào"'),
          ('[intro]\n', '[unused]\n')],
         "[intro]", "must be a table"),
    case("general-not-a-table",
         [('default_language = "vi"', 'default_language = "vi"\ngeneral = "HL"'),
          ('[general]\n', '[unused]\n')],
         "[general]", "must be a table"),
    # comment
    case("comment-max-length-zero", [('max_length = 2000', 'max_length = 0')],
         "[comment].max_length", MAX_LENGTH),
    case("comment-max-length-too-big", [('max_length = 2000', 'max_length = 10001')],
         "[comment].max_length", MAX_LENGTH),
    case("comment-max-length-string", [('max_length = 2000', 'max_length = "2000"')],
         "[comment].max_length", MAX_LENGTH),
    case("comment-max-length-bool", [('max_length = 2000', 'max_length = true')],
         "[comment].max_length", MAX_LENGTH),
    # id and version
    case("version-string", [('version = 1', 'version = "1"')], "version", WHOLE_VERSION),
    case("version-float", [('version = 1', 'version = 1.0')], "version", WHOLE_VERSION),
    case("version-zero", [('version = 1', 'version = 0')], "version", WHOLE_VERSION),
    case("version-bool", [('version = 1', 'version = true')], "version", WHOLE_VERSION),
    case("version-missing", [('version = 1\n', '')], "version", WHOLE_VERSION),
    case("id-upper-case", [('id = "sipas-2023"', 'id = "SIPAS-2023"')],
         "id", "must be lower-case letters, digits and '-'"),
    case("id-missing", [('id = "sipas-2023"\n', '')],
         "id", "must be lower-case letters, digits and '-'"),
]


@pytest.mark.parametrize("replacements,place,problem", CASES)
def test_broken_definition_is_refused(sipas_text, write, tmp_path, replacements, place, problem):
    path = write(edit(sipas_text, *replacements))
    with pytest.raises(QuestionnaireError) as info:
        load("sipas-2023", directory=tmp_path)
    assert_error(info, path, place, problem)


@pytest.mark.parametrize("replacements,place,problem", CASES)
def test_load_text_reports_the_same_error(sipas_text, replacements, place, problem):
    with pytest.raises(QuestionnaireError) as info:
        load_text(edit(sipas_text, *replacements), source="upload.toml")
    assert_error(info, "upload.toml", place, problem)


def test_every_case_id_is_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("replacements,place,expected", [
    pytest.param([('id = "sipas-2023"', 'id = "sipas-2024"')], "id/version",
                 "'sipas-2024@1' must live in sipas-2024/1.toml", id="id-differs-from-folder"),
    pytest.param([('version = 1', 'version = 2')], "id/version",
                 "'sipas-2023@2' must live in sipas-2023/2.toml", id="version-differs-from-name"),
])
def test_id_and_version_must_match_the_path(sipas_text, write, tmp_path,
                                            replacements, place, expected):
    path = write(edit(sipas_text, *replacements))
    with pytest.raises(QuestionnaireError) as info:
        load("sipas-2023", directory=tmp_path)
    assert_error(info, path, place, expected)
    with pytest.raises(QuestionnaireError) as info:
        load_file(path)
    assert_error(info, path, place, expected)
    # The text itself is fine: only its location is wrong.
    load_text(edit(sipas_text, *replacements))


def test_version_file_name_with_leading_zero_is_refused(sipas_text, write, tmp_path):
    path = write(sipas_text, version="01")
    with pytest.raises(QuestionnaireError) as info:
        load("sipas-2023", 1, directory=tmp_path)
    assert_error(info, path, "id/version", "must live in sipas-2023/1.toml")


@pytest.mark.parametrize("encode", [
    pytest.param(lambda text: text.encode("utf-16"), id="utf-16"),
    pytest.param(lambda text: text.encode().replace(b"B\xc3\xacnh", b"B\xecnh"),  # Bình, Latin-1
                 id="stray-latin-1-byte"),
    pytest.param(lambda text: text.encode("utf-8") + b"\xff", id="trailing-0xff"),
])
def test_non_utf8_file_is_refused(sipas_text, write, tmp_path, encode):
    path = write(encode(sipas_text))
    with pytest.raises(QuestionnaireError) as info:
        load("sipas-2023", directory=tmp_path)
    assert_error(info, path, "", "is not UTF-8 text")


def test_missing_file_cannot_be_read(tmp_path):
    path = tmp_path / "sipas-2023" / "1.toml"
    with pytest.raises(QuestionnaireError) as info:
        load_file(path)
    assert_error(info, path, "", "cannot be read (No such file or directory)")


def test_directory_in_place_of_file_cannot_be_read(tmp_path):
    path = tmp_path / "sipas-2023" / "1.toml"
    path.mkdir(parents=True)
    with pytest.raises(QuestionnaireError) as info:
        load("sipas-2023", directory=tmp_path)
    assert_error(info, path, "", "cannot be read")


def test_unreadable_file_cannot_be_read(sipas_text, write, tmp_path, monkeypatch):
    # Simulated: CI runs as root, who can read a file whatever its mode.
    path = write(sipas_text)
    real = Path.read_bytes

    def refuse(self):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(QuestionnaireError) as info:
        load_file(path)
    assert_error(info, path, "", "cannot be read (Permission denied)")


def test_error_carries_its_parts():
    err = QuestionnaireError("a/1.toml", "criteria[3]", "broken")
    assert (err.source, err.place, err.problem) == ("a/1.toml", "criteria[3]", "broken")
    assert str(err) == "a/1.toml: criteria[3]: broken"
    assert str(QuestionnaireError("a/1.toml", "", "broken")) == "a/1.toml: broken"
    assert isinstance(err, ValueError)


# --- what the loader accepts -------------------------------------------------------------

MINIMAL = """
id = "mini"
version = 3

[title]
vi = "  Phiếu ngắn  "

[[scales]]
code = "yn"
satisfied = [2]
levels = [{ value = 1, vi = "Không" }, { value = 2, vi = "Có" }]

[[elements]]
code = "E"
vi = "Phần duy nhất"

[[criteria]]
code = "E1"
element = "E"
scale = "yn"
vi = "Câu hỏi duy nhất"
en = "The only question"
"""


def test_minimal_definition_gets_defaults(write, tmp_path):
    write(MINIMAL, qid="mini", version=3)
    q = load("mini", directory=tmp_path)
    assert q.key == "mini@3"
    assert dict(q.title) == {"vi": "Phiếu ngắn", "en": "Phiếu ngắn"}  # stripped, en falls back
    assert dict(q.intro) == {"vi": "", "en": ""}
    assert q.general is None
    assert q.expectations == () and q.expectation_prompt is None
    assert q.conditions == () and q.demographics == ()
    assert q.comment is None
    assert q.answer_columns == ("E1",)
    assert q.criteria[0].text["en"] == "The only question"
    assert dict(q.scales[0].levels[0].label) == {"vi": "Không", "en": "Không"}


def test_comment_max_length_defaults_to_2000(write, tmp_path):
    write(MINIMAL + '\n[comment]\nvi = "Góp ý"\n', qid="mini", version=3)
    comment = load("mini", directory=tmp_path).comment
    assert comment is not None and comment.max_length == 2000


def test_unbroken_copy_is_accepted(sipas_text, write, tmp_path):
    """Guards the cases above: the unedited text loads from the same place."""
    write(sipas_text)
    assert load("sipas-2023", directory=tmp_path).key == "sipas-2023@1"
