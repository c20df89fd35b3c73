"""References and parameter labels per language (issue 17, requirement 4).

A `reference:` is a plain string (the DESIGN §4.1 contract, shown as written in both languages) or
a {ko, en} mapping shown in the page's language; the rule programme, the command line and the API
keep one string, the English member. Parameters are shown by the label the guardrails file gives.
"""

from __future__ import annotations

import copy

import pytest

from regionvisa.config import PROJECT_ROOT
from regionvisa.policyfiles import LocalText, PolicyError, read_yaml, reference_contract, reference_local
from regionvisa.programs.files import criterion_references, load_program_file, parse_design, program_files
from regionvisa.programs.guardrails import guardrails, parameter_label

POLICY = PROJECT_ROOT / "policy"
BUSAN = read_yaml(POLICY / "programs" / "26" / "busan-d2.yaml")
FILES = program_files(POLICY)


def test_a_plain_string_reference_still_loads_and_is_shown_as_written():
    design = copy.deepcopy(BUSAN)
    design["reference"] = "Busan design 2025, §3"
    design["criteria"][0]["reference"] = "Busan design 2025, §3"
    lp = parse_design(design, "design.yaml")
    assert lp.spec.reference == "Busan design 2025, §3"
    assert reference_local(lp.spec.reference) == {"ko": "Busan design 2025, §3", "en": "Busan design 2025, §3"}
    first = next(c for c in lp.rules.criteria if c.id == design["criteria"][0]["id"])
    assert first.reference == "Busan design 2025, §3"


def test_a_mapping_reference_is_shown_per_language_and_kept_as_one_english_string():
    lp = parse_design(copy.deepcopy(BUSAN), "design.yaml")
    written = criterion_references(lp)["financial-proof"]
    assert isinstance(written, LocalText)
    assert reference_local(written)["ko"].startswith("부산 설계 2025")
    crit = next(c for c in lp.rules.criteria if c.id == "financial-proof")
    assert crit.reference == written.en == reference_contract(written)
    # the design keeps the mapping (the stored design and the design form round trip see it as written)
    assert lp.as_dict()["criteria"][0]["reference"] == {"ko": written.ko, "en": written.en}


@pytest.mark.parametrize(
    ("reference", "where"),
    [
        ({"ko": "부산 설계"}, "criteria[0].reference"),
        ({"ko": "부산 설계", "en": "Busan design", "fr": "x"}, "criteria[0].reference"),
        ("", "criteria[0].reference"),
    ],
)
def test_a_malformed_reference_names_its_key(reference, where):
    design = copy.deepcopy(BUSAN)
    design["criteria"][0]["reference"] = reference
    with pytest.raises(PolicyError) as info:
        parse_design(design, "design.yaml")
    assert f"design.yaml:{where}: expected a reference" in "\n".join(info.value.errors), info.value.errors


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_programme_reference_has_both_languages(path):
    lp = load_program_file(path)
    refs = [lp.spec.reference, *criterion_references(lp).values()]
    assert all(isinstance(r, LocalText) for r in refs), [r for r in refs if not isinstance(r, LocalText)]


def test_every_guardrail_reference_has_both_languages():
    rails = guardrails()
    refs = [rails.reference]
    for base in rails.base_visas.values():
        refs += [c.reference for c in base.fixed_criteria] + [s.reference for s in base.shape_rules]
        refs += [b.reference for b in base.bounded_parameters.values()]
        refs += [c.reference for c in base.closed_lists.values()]
    assert all(isinstance(r, LocalText) for r in refs), [r for r in refs if not isinstance(r, LocalText)]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_parameter_a_programme_names_has_a_label(path):
    lp = load_program_file(path)
    for name in lp.rules.parameters:
        assert parameter_label(name, "ko") != name and parameter_label(name, "en") != name, name


def test_national_defaults_are_labelled_by_their_description():
    assert parameter_label("national.d2_bank_balance_krw", "ko") == "유학(D-2) 재정능력 입증 기준 금액"
    assert parameter_label("national.d2_bank_balance_krw", "en") == "National D-2 financial-proof amount"
    assert parameter_label("national.no_such_parameter", "en") == "national.no_such_parameter"
    assert parameter_label("no_such_parameter", "ko") == "no_such_parameter"


def test_a_guardrail_problem_names_the_reference_in_each_language():
    design = copy.deepcopy(BUSAN)
    design["parameters"]["bank_balance_krw"] = {"2025-04-02": 1}
    with pytest.raises(PolicyError) as info:
        parse_design(design, "design.yaml")
    problem = next(p for p in info.value.problems if p.path == "parameters.bank_balance_krw.2025-04-02")
    bounded = guardrails().base_visas["D-2"].bounded_parameters["bank_balance_krw"].reference
    assert bounded.en in problem.en and bounded.ko not in problem.en
    assert bounded.ko in problem.ko and bounded.en not in problem.ko


def test_the_programme_page_shows_references_and_parameters_in_its_language(client, pilots, role_users, login):
    login(client, "t.officer")
    ko = client.get("/programs/busan-d2?lang=ko").text
    en = client.get("/programs/busan-d2?lang=en").text
    assert "출입국관리법 제7조" in ko and "Immigration Act art. 7" not in ko
    assert "Immigration Act art. 7" in en and "출입국관리법" not in en
    assert "재정능력 입증 금액" in ko and "Financial-proof amount" in en
    assert ">bank_balance_krw" not in ko and 'data-parameter="bank_balance_krw"' in ko
