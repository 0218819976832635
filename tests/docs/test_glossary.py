"""docs/glossary.md is the one vocabulary: the plan report's labels, the export's codebook
and the analysis commands' terminal words say what it says, in Vietnamese and in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.cli_words import WORDS
from analysis.codebook import CHANNELS, META_LABELS
from analysis.decision766 import ITEMS as ITEMS_766
from analysis.report.labels import LABELS
from survey_app.models import ROLE_NAMES

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"
ROW = re.compile(r"^\| `([^`]+)` \| (.+?) \| (.+?) \|$")


def terms() -> dict[str, tuple[str, str]]:
    return {m[1]: (m[2], m[3]) for line in GLOSSARY.read_text(encoding="utf-8").splitlines()
            if (m := ROW.match(line))}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_report_and_the_codebook_use_the_glossarys_words(lang):
    column = 0 if lang == "vi" else 1
    found = terms()
    checked = 0
    for key, words in found.items():
        for source in (LABELS[lang], META_LABELS[lang], CHANNELS[lang], WORDS[lang],
                       ROLE_NAMES if lang == "vi" else {}, {k: v[column] for k, v in ITEMS_766.items()}):
            if key in source:
                assert source[key] == words[column], (key, source[key], words[column])
                checked += 1
    assert checked >= 40, checked


def test_the_dashboard_says_the_glossarys_word_for_a_flag():
    macros = (Path(__file__).resolve().parents[2] / "survey_app" / "templates" / "analyst" / "_macros.html")
    assert "term('insufficient data')" in macros.read_text(encoding="utf-8")
    assert terms()["insufficient data"][0] == "Không đủ dữ liệu"


def test_pages_name_roles_and_questionnaires_in_words(app):
    from tests.support import Auth

    client = app.test_client()
    Auth(client).login("analyst")
    page = client.get("/analyst/").get_data(as_text=True)
    assert "analyst (chuyên viên phân tích)" in page and "(analyst)" not in page
    assert ">Khảo sát sự hài lòng của người dân" in page and ">sipas-2023</option>" not in page
