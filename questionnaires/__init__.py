"""Questionnaire definitions as versioned data, with a loader and a validator.

Each version lives in ``definitions/<id>/<version>.toml``. ``available()`` lists them and
``load(id, version=None)`` returns a frozen :class:`Questionnaire` (the newest version when
none is given). A broken file raises :class:`QuestionnaireError` naming the file, the place
in it and the problem.

>>> q = load("sipas-2023")
>>> [e.code for e in q.elements]
['TC', 'TT', 'CC', 'KQ', 'PA']
>>> q.general.code, len(q.criteria)
('HL', 19)
"""

from __future__ import annotations

from .loader import (
    DEFINITIONS_DIR,
    QuestionnaireError,
    available,
    load,
    load_file,
    load_text,
    parse_key,
)
from .model import (
    LANGUAGES,
    Choice,
    Comment,
    Criterion,
    Element,
    Level,
    Option,
    Question,
    Questionnaire,
    Scale,
)

__all__ = [
    "DEFINITIONS_DIR",
    "LANGUAGES",
    "Choice",
    "Comment",
    "Criterion",
    "Element",
    "Level",
    "Option",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "Scale",
    "available",
    "load",
    "load_file",
    "load_text",
    "parse_key",
]
