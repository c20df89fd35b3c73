"""The proposal page refuses an upload like every other form (issue 17, requirement 1): a request
over its size limit brings back the proposal page with the error summary linking to the
attachments field and the message beside it, in the page's language and with the limit in human
units. Was: a bare page headed "413"."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from regionvisa.limits import human_size, upload_limits


@pytest.fixture
def busan(app, login, round_id):
    with TestClient(app) as c:
        yield c, login(c, "s.busan")


LANGS = [("en", "too large", "There is a problem"), ("ko", "너무 큽니다", "입력 내용을 확인해 주세요")]


@pytest.mark.parametrize(("lang", "words", "heading"), LANGS)
def test_a_request_over_the_limit_brings_back_the_proposal_form(busan, round_id, lang, words, heading):
    client, token = busan
    limit = upload_limits().default
    # Refused from its declared length before a byte is read: the typed narrative was never
    # read, so it cannot be given back; the page, the summary and the message can.
    refused = client.post(
        f"/selection/rounds/{round_id}/proposals/26?lang={lang}",
        data={"csrf_token": token, "narrative": "Busan plan"},
        files={"attachments": ("budget.csv", b"0" * (limit + 1), "text/csv")},
    )
    assert refused.status_code == 413
    html = refused.text
    assert "<h1>413</h1>" not in html and 'id="attachments"' in html and 'name="narrative"' in html
    summary = re.search(r'<div class="error-box error-summary".*?</div>', html, re.S)
    assert summary and heading in summary.group(0) and 'href="#attachments"' in summary.group(0)
    beside = re.search(r'<p class="field-error" id="attachments-error">(.*?)</p>', html, re.S)
    assert beside and words in beside.group(1) and human_size(limit) in beside.group(1)
    assert 'aria-describedby="attachments-error"' in html
