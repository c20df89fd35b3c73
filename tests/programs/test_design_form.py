"""The design editor's form ⇄ design conversion round-trips exactly (examples and Hypothesis)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from regionvisa.programs import design_form, designs

POLICY = Path(__file__).resolve().parents[2] / "policy" / "programs"
FILES = sorted(POLICY.glob("*/*.yaml"))


def _round(design: dict) -> dict:
    fields = design_form.from_design(design).as_fields()
    return design_form.to_design(design_form.from_fields(fields))


def test_every_programme_file_round_trips_through_the_form_and_yaml():
    assert len(FILES) >= 10
    for path in FILES:
        design = yaml.safe_load(path.read_text(encoding="utf-8"))
        back = _round(design)
        assert back == design, path
        assert designs.design_from_text(designs.design_yaml(back)) == design, path


def test_simple_criteria_and_dated_values_are_form_rows():
    design = yaml.safe_load((POLICY / "26" / "busan-d2.yaml").read_text(encoding="utf-8"))
    form = design_form.from_design(design)
    assert form.meta["quota"] == "1000" and form.meta["region"] == "26"
    assert {"name": "bank_balance_krw", "date": "2025-04-02", "value": "8000000", "text_date": ""} in form.params
    first = form.rules[0]
    assert (first["field"], first["op"], first["kind"], first["value"]) == (
        "bank_balance_krw",
        ">=",
        "param",
        "bank_balance_krw",
    )
    assert form.rules[3]["rule_yaml"]  # years_since: kept verbatim
    assert "points" in form.extra


# PyYAML itself reads some control characters (NEL, U+0085) back as other text: not the form's concern
TEXT = st.characters(blacklist_categories=("Cc", "Cs"))
scalars = st.one_of(
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
    st.text(TEXT, max_size=12),
)
names = st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)
rules = st.one_of(
    st.builds(
        lambda op, f, right: {op: [{"var": f}, right]},
        st.sampled_from(design_form.COMPARISON_OPS),
        names,
        st.one_of(scalars, names.map(lambda p: {"param": p})),
    ),
    st.builds(lambda parts: {"any": parts}, st.lists(st.just({"==": [{"var": "a"}, 1]}), min_size=1, max_size=2)),
)
criteria = st.builds(
    lambda i, ko, en, ref, rule: {"id": i, "label": {"ko": ko, "en": en}, "reference": ref, "rule": rule},
    names,
    st.text(TEXT, max_size=8),
    st.text(TEXT, max_size=8),
    st.text(TEXT, max_size=8),
    rules,
)
design_strategy = st.fixed_dictionaries(
    {
        "id": names,
        "version": st.integers(1, 99),
        "region": st.sampled_from(["11", "26", "47"]),
        "title": st.fixed_dictionaries({"ko": st.text(TEXT, max_size=8), "en": st.text(TEXT, max_size=8)}),
        "valid_from": st.dates(),
        "quota": st.one_of(st.integers(0, 10**6), st.text(TEXT, max_size=4)),
    },
    optional={
        "parameters": st.dictionaries(
            names, st.dictionaries(st.dates() | st.dates().map(str), scalars, min_size=1, max_size=3), max_size=3
        ),
        "criteria": st.lists(criteria, max_size=4),
        "points": st.lists(st.fixed_dictionaries({"id": names, "points": st.integers(0, 20)}), max_size=2),
        "obligation_months": st.integers(0, 60),
    },
)


@settings(max_examples=150, deadline=None)
@given(design_strategy)
def test_form_round_trip_property(design):
    back = _round(design)
    assert back == design
    assert designs.design_from_text(designs.design_yaml(back)) == back


def test_a_stored_design_s_dates_and_residence_area_are_form_fields():
    """A design read back from the database keeps its dates as ISO text: they are date fields of
    the form all the same (and stay text), and the residence area is a list of ticked regions."""
    stored = {"id": "x-d2", "valid_from": "2025-03-01", "valid_to": "2026-02-28", "residence_area": ["26", "48"]}
    form = design_form.from_design(stored)
    assert form.meta["valid_from"] == "2025-03-01" and form.text_meta == ["valid_from", "valid_to"]
    assert form.area == ["26", "48"] and form.extra == ""
    fields = form.as_fields()
    assert fields["area-26"] == fields["area-48"] == "1"
    assert design_form.to_design(design_form.from_fields(fields)) == stored
    unordered = {"residence_area": ["48", "26"]}
    assert design_form.from_design(unordered).area == []  # kept verbatim instead
    assert design_form.to_design(design_form.from_fields(design_form.from_design(unordered).as_fields())) == unordered
