"""The design form's Preview: the sample applicants screened against the design as typed, criterion by
criterion, with the explanation pages' wording; the same checks and authorisation as Check; nothing stored."""

from __future__ import annotations

import datetime as dt
import html as html_module
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.programs.test_design_form_pages import _fields

from regionvisa.audit.models import AuditEntry
from regionvisa.config import PROJECT_ROOT
from regionvisa.db import session_scope
from regionvisa.policyfiles import PolicyError
from regionvisa.programs import samples
from regionvisa.programs.files import load_program_file
from regionvisa.programs.models import ProgramVersion

SAMPLES = PROJECT_ROOT / "policy" / samples.SAMPLES_FILE


def _row(page: str, sample: str) -> str:
    match = re.search(rf'<tr data-sample="{sample}"[^>]*>(.*?)</tr>', page, re.S)
    assert match, f"no preview row for {sample}"
    return match.group(1)


def _cell(row: str, criterion: str) -> tuple[str, str]:
    """(result class, text) of one criterion's cell."""
    match = re.search(rf'<td class="result-(\w+)" data-criterion="{criterion}">(.*?)</td>', row, re.S)
    assert match, f"no cell for {criterion}"
    return match.group(1), html_module.unescape(re.sub(r"<[^>]+>", " ", match.group(2)))


def _outcome(row: str) -> str:
    return re.search(r'<td class="sample-outcome">(.*?)</td>', row, re.S).group(1).split("<")[0].strip()


def _counts(engine) -> tuple[int, int]:
    with session_scope(engine=engine) as session:
        versions = session.scalar(select(func.count()).select_from(ProgramVersion))
        audit = session.scalar(select(func.count()).select_from(AuditEntry))
    return versions, audit


def _form(client, program: str, lang: str = "en") -> dict[str, str]:
    page = client.get(f"/program-drafts/form?program={program}&lang={lang}")
    assert page.status_code == 200
    return _fields(page.text)


def test_preview_shows_eligible_and_ineligible_samples_criterion_by_criterion(
    client, engine, pilots, role_users, login
):
    login(client, "t.busan")
    fields = _form(client, "busan-d2") | {"act": "preview"}
    before = _counts(engine)
    page = client.post("/program-drafts/form?lang=en", data=fields)
    assert page.status_code == 200 and 'id="preview-table"' in page.text
    assert _counts(engine) == before  # nothing stored, nothing audited
    young, older = _row(page.text, "young-student-topik4"), _row(page.text, "older-student-low-balance")
    assert _outcome(young) == "eligible" and _outcome(older) == "ineligible"
    assert "Undergraduate aged 22, TOPIK 4, 10M KRW balance" in young
    assert _cell(young, "financial-proof")[0] == "pass"
    result, text = _cell(older, "financial-proof")
    # the explanation's own words, from the one evaluator
    program = load_program_file(PROJECT_ROOT / "policy" / "programs" / "26" / "busan-d2.yaml")
    on = samples.preview_day(program=program, today=dt.date.today())
    rows = samples.preview(program=program, samples=samples.load_samples(SAMPLES), on=on)
    expected = next(r for r in rows if r.sample.id == "older-student-low-balance").explanation
    message = next(c for c in expected.criteria if c.id == "financial-proof").message["en"]
    assert result == "fail" and "fail" in text and message in text
    assert _cell(older, "age-limit")[0] == "fail" and _cell(older, "no-entry-ban")[0] == "pass"
    missing = _row(page.text, "student-no-documents")
    assert _outcome(missing) == "incomplete" and _cell(missing, "korean-ability")[0] == "missing"
    assert 'data-sample="engineer-master"' not in page.text  # only the design's base visa


def test_preview_follows_the_design_as_typed(client, pilots, role_users, login):
    login(client, "t.busan")
    fields = _form(client, "busan-d2")
    row = next(k for k, v in fields.items() if v == "bank_balance_krw" and k.startswith("param-"))
    fields |= {row.replace("-name", "-value"): "4000000", "act": "preview"}
    assert client.post("/program-drafts/form?lang=en", data=fields).status_code == 422  # below the guardrail
    fields |= {row.replace("-name", "-value"): "20000000"}
    page = client.post("/program-drafts/form?lang=en", data=fields).text
    assert _cell(_row(page, "young-student-topik4"), "financial-proof")[0] == "fail"
    assert _outcome(_row(page, "young-student-topik4")) == "ineligible"


def test_preview_of_an_e7_design_screens_the_e7_samples(client, pilots, role_users, login):
    login(client, "t.officer")
    page = client.post("/program-drafts/form?lang=en", data=_form(client, "daegu-e7") | {"act": "preview"}).text
    assert _outcome(_row(page, "engineer-master")) == "eligible"
    low = _row(page, "worker-below-wage-floor")
    assert _outcome(low) == "ineligible" and _cell(low, "wage-floor")[0] == "fail"
    assert 'data-sample="young-student-topik4"' not in page


def test_a_guardrail_problem_shows_as_check_does_and_no_preview(client, engine, pilots, role_users, login):
    login(client, "t.busan")
    fields = _form(client, "busan-d2")
    row = next(k for k, v in fields.items() if v == "bank_balance_krw" and k.startswith("param-"))
    value = row.replace("-name", "-value")
    fields |= {value: "1000", "meta-quota": "900", "act": "check"}
    checked = client.post("/program-drafts/form?lang=en", data=fields)
    fields["act"] = "preview"
    before = _counts(engine)
    refused = client.post("/program-drafts/form?lang=en", data=fields)
    assert _counts(engine) == before
    assert refused.status_code == checked.status_code == 422
    assert 'id="preview' not in refused.text and 'id="error-summary"' in refused.text
    assert f'href="#{value}"' in refused.text
    beside = re.search(rf'id="{value}-error">(.*?)</p>', refused.text, re.S).group(1)
    assert "1,000 KRW is below the national lower bound 8,000,000" in beside
    kept = _fields(refused.text)
    assert kept[value] == "1000" and kept["meta-quota"] == "900"
    strip = re.compile(r'name="csrf_token" value="[^"]*"')
    assert strip.sub("", refused.text) == strip.sub("", checked.text)  # exactly as Check shows it


def test_everything_typed_is_kept_on_the_preview_page(client, pilots, role_users, login):
    login(client, "t.busan")
    fields = _form(client, "busan-d2")
    fields |= {
        "meta-quota": "750",
        "rule-0-label_en": "Funds, as typed",
        "rule-1-label_ko": "입력한 이름",
        "act": "preview",
    }
    fields["reason"] = "trying a lower quota"
    page = client.post("/program-drafts/form?lang=en", data=fields)
    assert page.status_code == 200 and 'id="preview-table"' in page.text
    kept = _fields(page.text)
    sent = {k: v for k, v in fields.items() if k not in ("act", "csrf_token")}
    assert {k: kept.get(k) for k in sent} == sent
    assert "Funds, as typed" in page.text  # the typed label heads its column too


def test_the_korean_preview_is_worded_in_korean(client, pilots, role_users, login):
    login(client, "t.busan")
    page = client.post("/program-drafts/form?lang=ko", data=_form(client, "busan-d2", "ko") | {"act": "preview"})
    text = html_module.unescape(page.text)
    assert "견본 신청인 대상 미리보기 심사" in text and "아무것도 저장되지 않았습니다" in text
    young, older = _row(text, "young-student-topik4"), _row(text, "older-student-low-balance")
    assert _outcome(young) == "적격" and _outcome(older) == "부적격"
    assert "22세 학부 신입생" in young
    result, words = _cell(older, "financial-proof")
    assert result == "fail" and "미충족" in words and "예금 잔고" in words
    section = re.search(r'<section aria-labelledby="preview-heading".*?</section>', text, re.S).group(0)
    shown = re.sub(r"<[^>]+>", " ", section)
    for english in ("Sample applicant", "Preview screening", "eligible", "Undergraduate", "bank balance", "met"):
        assert english not in shown
    assert ">미리보기</button>" in text


@pytest.mark.parametrize("username", ["t.committee", "t.auditor"])
def test_a_role_that_may_not_draft_cannot_preview(client, engine, pilots, role_users, login, username):
    login(client, "t.busan")
    fields = _form(client, "busan-d2") | {"act": "preview"}
    fields["csrf_token"] = login(client, username)
    before = _counts(engine)
    refused = client.post("/program-drafts/form?lang=en", data=fields)
    assert refused.status_code == 403 and 'id="preview-table"' not in refused.text
    assert _counts(engine)[0] == before[0]


# ------------------------------------------------------------------------------ the sample file


def test_the_sample_file_has_varied_profiles_of_each_visa():
    profiles = samples.load_samples(SAMPLES)
    for visa, pilot in (("D-2", "26/busan-d2.yaml"), ("E-7", "27/daegu-e7.yaml")):
        assert 5 <= len(profiles.for_visa(visa)) <= 8
        program = load_program_file(PROJECT_ROOT / "policy" / "programs" / pilot)
        rows = samples.preview(program=program, samples=profiles, on=dt.date(2026, 6, 1))
        assert {r.explanation.outcome for r in rows} == {"eligible", "ineligible", "incomplete"}
        failed = {c for r in rows for c in r.explanation.failed}
        assert len(failed) >= 3, failed  # different criteria fail for different samples


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            ("applicant", "favourite_colour", "blue"),
            "samples.D-2[0].applicant.favourite_colour: unknown applicant field",
        ),
        (("applicant", "topik_level", "four"), "samples.D-2[0].applicant.topik_level: 'four'"),
        (("applicant", "birth_date", "2004-13-40"), "samples.D-2[0].applicant.birth_date: '2004-13-40'"),
        (("label", None, {"ko": "견본"}), "samples.D-2[0].label.en: Field required"),
        (("id", None, "second"), "samples.D-2[1].id: 'second' is used twice for D-2"),
    ],
)
def test_a_broken_sample_file_names_the_file_and_the_field(tmp_path: Path, change, fragment):
    first = {"id": "first", "label": {"ko": "첫째", "en": "First"}, "applicant": {"topik_level": 3}}
    second = {"id": "second", "label": {"ko": "둘째", "en": "Second"}, "applicant": {"topik_level": 4}}
    where, key, value = change
    if where == "applicant":
        first["applicant"][key] = value
    else:
        first[where] = value
    with pytest.raises(PolicyError) as info:
        samples.parse_samples({"samples": {"D-2": [first, second]}}, str(tmp_path / "applicants.yaml"))
    assert any(
        line.startswith(f"{tmp_path / 'applicants.yaml'}:") and fragment in line for line in info.value.errors
    ), info.value.errors


def test_an_unknown_visa_in_the_sample_file_is_refused():
    with pytest.raises(PolicyError, match=r"x\.yaml:samples\.F-2"):
        samples.parse_samples({"samples": {"F-2": []}}, "x.yaml")


def test_a_visa_without_samples_says_so(client, pilots, role_users, login, monkeypatch):
    only_d2 = samples.load_samples(SAMPLES).for_visa("D-2")
    monkeypatch.setattr(samples, "load_samples", lambda path: samples.SampleSet({"D-2": only_d2}))
    login(client, "t.officer")
    page = client.post("/program-drafts/form?lang=en", data=_form(client, "daegu-e7") | {"act": "preview"})
    assert page.status_code == 200 and 'id="preview-none"' in page.text and 'id="preview-table"' not in page.text
    assert "No sample applicants are defined for this visa." in page.text
