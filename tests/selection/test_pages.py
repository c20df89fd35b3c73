"""The selection pages without JavaScript: a region's proposal page (guardrail errors shown,
versions), a member's scoring page (declaration, recusal, own scores only), the chair's
decision page (quorum refusal, adjustment) and the published result with the minutes."""

from __future__ import annotations

import re

import yaml

from .conftest import busan_design, decidable, design_for

CRITERIA = ("need", "feasibility", "settlement", "management", "employment")


def score_form(csrf: str, value: int) -> dict:
    form = {"csrf_token": csrf}
    for c in CRITERIA:
        form[f"score_{c}"] = str(value)
        form[f"comment_{c}"] = f"comment on {c}"
    return form


def test_a_whole_round_through_the_pages(browser_for, round_id):
    base = f"/selection/rounds/{round_id}"
    busan, busan_csrf = browser_for("s.busan")
    page = busan.get(f"{base}/proposals/26")
    assert page.status_code == 200 and 'id="no-proposal"' in page.text
    bad = yaml.safe_dump(busan_design() | {"obligation_months": 500}, allow_unicode=True)
    refused = busan.post(
        f"{base}/proposals/26",
        data={"csrf_token": busan_csrf, "narrative": "Busan plan", "design_1": bad, "quota_1": "900"},
    )
    assert refused.status_code == 422
    summary = re.search(r'<div class="error-box error-summary".*?</div>', refused.text, re.S).group(0)
    assert '<a href="#design_1">' in summary and "design[1]:obligation_months" in summary
    beside = re.search(r'<p class="field-error" id="design_1-error">(.*?)</p>', refused.text, re.S).group(1)
    assert "design[1]:obligation_months" in beside
    assert "Busan plan" in refused.text  # the input is kept
    good = yaml.safe_dump(busan_design(), allow_unicode=True)
    files = {"attachments": ("budget.csv", b"item,krw\nhousing,1000000\n", "text/csv")}
    saved = busan.post(
        f"{base}/proposals/26",
        data={"csrf_token": busan_csrf, "narrative": "Busan plan", "design_1": good, "quota_1": "900"},
        files=files,
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text[:500]
    again = busan.post(
        f"{base}/proposals/26",
        data={"csrf_token": busan_csrf, "narrative": "Busan plan v2", "design_1": good, "quota_1": "1000"},
        follow_redirects=False,
    )
    assert again.status_code == 303
    page = busan.get(f"{base}/proposals/26").text
    assert "Busan plan v2" in page and "budget.csv" in page
    rows = re.search(r'<table id="version-table">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    assert rows.count("<tr>") == 2
    assert "TOPIK 등급 ≥ 프로그램 기준값" in page  # the design in plain language
    assert busan.get(f"{base}/proposals/11").status_code == 403
    attachment = re.search(rf'href="({base}/attachments/\d+)"', page).group(1)
    assert busan.get(attachment).content == b"item,krw\nhousing,1000000\n"

    seoul, seoul_csrf = browser_for("s.seoul")
    seoul_design = yaml.safe_dump(design_for("11", "seoul-d2", 300), allow_unicode=True)
    seoul.post(
        f"{base}/proposals/11", data={"csrf_token": seoul_csrf, "narrative": "Seoul plan", "design_1": seoul_design}
    )
    assert seoul.get(attachment).status_code == 403

    admin, admin_csrf = browser_for("s.admin")
    closed = admin.post(
        f"{base}/close-window", data={"csrf_token": admin_csrf, "reason": "deadline"}, follow_redirects=False
    )
    assert closed.status_code == 303
    assert (
        busan.post(
            f"{base}/proposals/26", data={"csrf_token": busan_csrf, "narrative": "late", "design_1": good}
        ).status_code
        == 409
    )

    # the member affiliated with Busan: recused, cannot open or score Busan
    expert, expert_csrf = browser_for("c.expert1")
    listing = expert.get(f"{base}/score").text
    assert 'id="recused-list"' in listing and f"{base}/score/26" not in listing
    assert expert.get(f"{base}/score/26").status_code == 403
    assert expert.post(f"{base}/score/26", data=score_form(expert_csrf, 99)).status_code == 403

    chair, chair_csrf = browser_for("c.chair")
    undeclared = chair.post(f"{base}/score/26", data=score_form(chair_csrf, 80))
    assert undeclared.status_code == 409
    chair.post(f"{base}/conflicts", data={"csrf_token": chair_csrf})
    assert chair.post(f"{base}/score/26", data=score_form(chair_csrf, 80), follow_redirects=False).status_code == 303
    official, official_csrf = browser_for("c.official1")
    official.post(f"{base}/conflicts", data={"csrf_token": official_csrf})
    official.post(f"{base}/score/26", data=score_form(official_csrf, 70))
    own_only = official.get(f"{base}/score/26").text
    assert 'id="own-only"' in own_only and "comment on need" in own_only and 'value="70"' in own_only
    assert 'value="80"' not in own_only  # the chair's scores stay hidden until scoring closes

    admin.post(f"{base}/close-scoring", data={"csrf_token": admin_csrf})
    decision = chair.get(f"{base}/decision").text
    assert 'id="quorum-warning"' in decision
    refused = chair.post(f"{base}/decision", data={"csrf_token": chair_csrf})
    assert refused.status_code == 409 and "의결정족수" in refused.text
    assert official.get(f"{base}/decision").status_code == 403
    assert 'id="other-scores"' in official.get(f"{base}/score/26").text


def test_the_chair_decides_and_regions_see_the_result_and_the_minutes(browser_for, round_id, engine, people):
    decidable(engine, people, round_id)
    base = f"/selection/rounds/{round_id}"
    chair, csrf = browser_for("c.chair")
    page = chair.get(f"{base}/decision").text
    assert 'name="quota__busan-d2"' in page and 'id="quorum-warning"' not in page
    form = {"csrf_token": csrf, "quota__busan-d2": "800", "recommended__busan-d2": "1000", "meeting_on": "2025-04-02"}
    missing_reason = chair.post(f"{base}/decision", data=form)
    assert missing_reason.status_code == 422 and '<a href="#reason__busan-d2">' in missing_reason.text
    assert 'id="reason__busan-d2-error"' in missing_reason.text and 'value="800"' in missing_reason.text
    done = chair.post(f"{base}/decision", data=form | {"reason__busan-d2": "dormitory places"}, follow_redirects=False)
    assert done.status_code == 303
    seoul, _ = browser_for("s.seoul")
    overview = seoul.get(base).text
    assert 'id="results-table"' in overview and "부산광역시" in overview and "busan-d2: 800" in overview
    busan, _ = browser_for("s.busan")
    result = busan.get(f"{base}/proposals/26").text
    assert 'id="proposal-result"' in result and "dormitory places" in result
    minutes = seoul.get(f"{base}/minutes?language=en&format=html")
    assert minutes.status_code == 200 and "Members present" in minutes.text and "dormitory places" in minutes.text
    assert "Pusan National University" in minutes.text  # the recused member's affiliation, listed under recusals
    pdf = seoul.get(f"{base}/minutes?language=ko&format=pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def _accessibility_checks():
    import importlib.util
    import sys
    from pathlib import Path

    name = "regionvisa_selection_a11y_checks"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "web" / "test_accessibility.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_every_selection_page_is_accessible_in_every_phase(browser_for, round_id, engine, people):
    """The accessibility and CSRF checks of tests/web, on the selection pages of a populated round
    (the site-wide walk reaches only the pages its samples name)."""
    import datetime as dt

    from regionvisa.db import session_scope
    from regionvisa.selection import committee, proposals, service
    from regionvisa.selection.schemas import ConflictsIn, DesignIn, ProposalIn, ScoresIn

    checks = _accessibility_checks()
    base = f"/selection/rounds/{round_id}"
    with session_scope(engine=engine) as session:
        proposals.submit_proposal(
            session=session,
            round_id=round_id,
            region="26",
            data=ProposalIn(designs=[DesignIn(design=busan_design())], narrative="Busan plan"),
            actor=people["s.busan"],
            files=[("plan.txt", "text/plain", b"plan")],
        )
    clients = {name: browser_for(name)[0] for name in ("s.admin", "s.busan", "c.chair", "c.expert1")}
    pages = {
        "s.admin": ["/selection", base, f"{base}/proposals/26"],
        "s.busan": ["/selection", base, f"{base}/proposals/26"],
        "c.chair": [base, f"{base}/score", f"{base}/decision"],
        "c.expert1": [f"{base}/score"],
    }

    def check(extra: dict[str, list[str]]) -> list[str]:
        found = []
        for who, paths in extra.items():
            for path in paths:
                for lang in ("ko", "en"):
                    response = clients[who].get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
                    assert response.status_code == 200, (who, path, response.status_code)
                    problems = checks.page_problems(response.text, lang) + checks.form_problems(response.text)
                    found += [f"{who} {path} {lang}: {p}" for p in problems]
        return found

    problems = check(pages)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    scores = ScoresIn(scores={c: {"score": 70, "comment": "ok"} for c in CRITERIA})
    with session_scope(engine=engine) as session:
        for member in ("c.chair", "c.official1", "c.official2", "c.expert2"):
            committee.declare_conflicts(
                session=session, rnd=round_id, data=ConflictsIn(), actor=people[member], now=later
            )
            service.save_scores(
                session=session, rnd=round_id, region="26", data=scores, actor=people[member], now=later
            )
        service.close_scoring(session=session, rnd=round_id, actor=people["s.admin"], now=later)
    problems += check({"s.admin": [base], "c.chair": [f"{base}/decision", f"{base}/score/26"]})
    assert problems == []


def test_a_refused_round_form_names_the_field_in_the_page_language(browser_for, people):
    """A value the schema refuses is named by its label and worded in Korean, not by its id and
    Pydantic's English (issue 17: one language per page)."""
    admin, csrf = browser_for("s.admin")
    form = {"csrf_token": csrf, "year": "2031", "opens": "2031-01-05", "closes": "2031-02-05", "quorum": "2/3"}
    refused = admin.post("/selection/rounds?lang=ko", data=form | {"threshold": "150"})
    assert refused.status_code == 422
    assert "100 이하여야 합니다" in refused.text
    assert "Input should" not in refused.text and "threshold:" not in refused.text
    english = admin.post("/selection/rounds?lang=en", data=form | {"threshold": "150"})
    assert "Selection threshold (aggregate score, 0–100) must be 100 or less" in english.text
