"""The evaluation page's management forms (compute a run, propose next year's quotas, publish, a
member's government) follow the form pattern: a refusal brings the evaluation page back with the
summary linking to the field (or the form), the message beside it in the page's language, what was
typed kept, and the refusal's status; never a bare error page (issue 17 req. 1)."""

from __future__ import annotations

import re

from .test_eval_web import YEAR
from .test_eval_web import published as published  # the fixture


def _links(html: str) -> list[str]:
    box = re.search(r'<div class="error-box error-summary".*?</div>', html, re.S)
    assert box, "no error summary"
    return re.findall(r'<a href="#([^"]+)"', box.group(0))


def test_a_run_with_a_year_that_is_not_a_number_comes_back_on_the_page(client, login, role_users, world):
    token = login(client, "t.officer")
    for lang, text in (("ko", "평가 연도: 정수로 입력해 주세요"), ("en", "Evaluation year: must be a whole number")):
        refused = client.post(
            f"/evaluation/runs?lang={lang}", data={"year": "20x5", "draws": "40", "csrf_token": token}
        )
        assert refused.status_code == 422
        assert _links(refused.text) == ["run-year"]
        assert 'id="run-year-error"' in refused.text and text in refused.text
        assert 'value="20x5"' in refused.text and 'value="40"' in refused.text  # typed values kept
        assert 'id="manage"' in refused.text  # the evaluation page itself, its forms included


def test_a_quota_plan_refused_beside_its_field_with_the_method_kept(client, login, role_users, published):
    token = login(client, "t.officer")
    form = {"year": str(YEAR), "ceiling": "", "method": "dhondt", "minimum": "2", "csrf_token": token}
    refused = client.post("/evaluation/quota-plans?lang=ko", data=form)
    assert refused.status_code == 422
    assert _links(refused.text) == ["plan-ceiling"]
    assert 'id="plan-ceiling-error"' in refused.text and "전국 상한" in refused.text
    assert '<option value="dhondt" selected>' in refused.text
    assert 'id="plan-minimum" name="minimum" min="0" value="2"' in refused.text


def test_publishing_an_unknown_run_links_to_nothing_it_cannot_name(client, login, role_users, world):
    token = login(client, "t.officer")
    form = {"run_id": "999", "reason": "ok", "csrf_token": token}
    refused = client.post("/evaluation/runs/publish?lang=en", data=form)
    assert refused.status_code == 404  # not the form's fault: the usual error page
