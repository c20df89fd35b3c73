"""The near-miss search on a bare rule programme: no database, no programme files, only the rule
tree, the applicant and the explanation the evaluator recorded."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from regionvisa.rules import Criterion, RuleProgram, check_program, explain
from regionvisa.rules.nearmiss import near_miss_changes

ON = dt.date(2025, 6, 1)
PROGRAM = RuleProgram(
    id="t",
    criteria=[
        Criterion(id="korean", rule={">=": [{"var": "topik_level"}, 4]}, label={"en": "Korean", "ko": "한국어"}),
        Criterion(
            id="language",
            rule={"any": [{">=": [{"var": "topik_level"}, 5]}, {">=": [{"var": "kiip_level"}, 3]}]},
            label={"en": "Language", "ko": "언어"},
        ),
        Criterion(
            id="age", rule={"<=": [{"years_since": [{"var": "birth_date"}]}, 39]}, label={"en": "Age", "ko": "나이"}
        ),
        Criterion(id="no-ban", rule={"==": [{"var": "entry_ban"}, False]}, label={"en": "No ban", "ko": "금지 없음"}),
    ],
)
APPLICANT = {"topik_level": 3, "kiip_level": 1, "birth_date": "1980-01-01", "entry_ban": False}


def _changes(applicant: dict) -> dict[str, dict]:
    checked = check_program(PROGRAM)
    explanation = explain(checked, applicant, on=ON)
    return {c["criterion"]: c for c in near_miss_changes(checked, applicant, explanation, on=ON)}


def test_each_failed_criterion_gets_a_verified_change_and_passed_ones_none():
    changes = _changes(APPLICANT)
    assert set(changes) == {"korean", "language", "age"}
    korean = changes["korean"]["changes"]
    assert [(c["field"], c["kind"], c["current"], c["target"]) for c in korean] == [("topik_level", "at_least", 3, 4)]
    age = changes["age"]["changes"][0]
    assert (age["field"], age["kind"], age["current"], age["target"]) == ("birth_date", "age_at_most", 45, 39)
    assert changes["age"]["text"] == {"en": "age 45 → 39", "ko": "나이 45 → 39"}
    assert all(c["verified"] for c in changes.values())


def test_either_or_offers_the_alternative_in_both_languages():
    language = _changes(APPLICANT)["language"]
    assert language["changes"][0]["target"] == 5
    assert [[c["field"] for c in way] for way in language["alternatives"]] == [["kiip_level"]]
    assert language["text"] == {"en": "TOPIK 3 → 5 or KIIP 1 → 3", "ko": "TOPIK 3 → 5 또는 사회통합프로그램 1 → 3"}


def test_an_eligible_applicant_needs_no_change():
    assert _changes({**APPLICANT, "topik_level": 5, "birth_date": "1990-01-01"}) == {}


def test_the_search_loads_no_database_and_no_programme_layer():
    probe = (
        "import json, sys; import regionvisa.rules.nearmiss; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy' "
        "or m.startswith(('regionvisa.programs', 'regionvisa.db')))))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True).stdout)
    assert loaded == []
