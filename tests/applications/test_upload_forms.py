"""Upload pages refuse like every other form (issue 17, requirement 1): a file too large or of the
wrong type brings back the same page, with the error summary at its top linking to the file
field, the message beside that field in the page's language, the limit in human units, and the
other typed values kept where the body was read. Was: a bare page headed "413" or "415".

The API keeps its JSON error shape for the same refusals."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

MB = 1024 * 1024
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def official(app, role_users, login):
    with TestClient(app) as c:
        yield c, login(c, role_users["regional_official"]["username"])


@pytest.fixture
def app_id(busan, submit) -> int:
    return submit(0)


def _upload(client, token, app_id, lang, *, content, ctype, doc_type="photo"):
    return client.post(
        f"/applications/{app_id}/documents?lang={lang}",
        data={"csrf_token": token, "doc_type": doc_type},
        files={"file": ("scan.pdf", content, ctype)},
        follow_redirects=False,
    )


def _assert_form_page(page, *, lang: str, words: str) -> str:
    """The application's own page with the summary linking to the file input and the message beside it."""
    html = page.text
    assert 'id="document-checklist"' in html and 'id="doc-file"' in html  # the form page, not an error page
    assert "<h1>413</h1>" not in html and "<h1>415</h1>" not in html
    summary = re.search(r'<div class="error-box error-summary".*?</div>', html, re.S)
    assert summary, html[:2000]
    assert 'href="#doc-file"' in summary.group(0)
    beside = re.search(r'<p class="field-error" id="doc-file-error">(.*?)</p>', html, re.S)
    assert beside, "no message beside the file field"
    assert words in beside.group(1)
    assert 'aria-describedby="doc-file-error"' in html
    heading = "입력 내용을 확인해 주세요" if lang == "ko" else "There is a problem"
    assert heading in summary.group(0)
    # the file itself cannot be given back: the page says so beside the field
    assert ("파일을 다시 골라 주세요" if lang == "ko" else "choose it again") in html
    return beside.group(1)


def _kept(html: str, doc_type: str) -> bool:
    return re.search(rf'<option value="{doc_type}" selected>', html) is not None


@pytest.mark.parametrize(("lang", "words"), [("en", "too large"), ("ko", "너무 큽니다")])
def test_a_body_over_the_limit_brings_back_the_form(official, app_id, lang, words):
    client, token = official
    # 13 MB: over the role's 12 MB body limit, refused while the body streams, before the page's
    # handler runs. The rest of the form was not read (it may come after the file), so the typed
    # values cannot be kept: the page, the summary and the message beside the file field can.
    page = _upload(client, token, app_id, lang, content=PDF + b"0" * (13 * MB), ctype="application/pdf")
    assert page.status_code == 413
    message = _assert_form_page(page, lang=lang, words=words)
    assert "10 MB" in message  # the file's limit, as the field's label states it
    assert "applications.documents" not in message and "bytes" not in message


@pytest.mark.parametrize(("lang", "words"), [("en", "too large"), ("ko", "너무 큽니다")])
def test_a_file_over_its_own_limit_brings_back_the_form_with_the_choice_kept(official, app_id, lang, words):
    client, token = official
    # 11 MB: within the body limit, so the form is read and the document use case refuses the file
    page = _upload(client, token, app_id, lang, content=PDF + b"0" * (11 * MB), ctype="application/pdf")
    assert page.status_code == 413
    message = _assert_form_page(page, lang=lang, words=words)
    assert "10 MB" in message and "10,485,760" not in message
    assert _kept(page.text, "photo")


@pytest.mark.parametrize(("lang", "words"), [("en", "not accepted"), ("ko", "허용되지 않는")])
def test_a_file_of_the_wrong_type_brings_back_the_form_with_the_choice_kept(official, app_id, lang, words):
    client, token = official
    page = _upload(client, token, app_id, lang, content=b"plain words", ctype="text/plain")
    assert page.status_code == 415
    _assert_form_page(page, lang=lang, words=words)
    assert _kept(page.text, "photo")


def test_the_api_keeps_its_json_error_shape(app, role_users, engine, app_id):
    from tests.hardening.uploads_support import tokens_for

    headers = tokens_for(engine, role_users)["regional_official"]
    with TestClient(app, raise_server_exceptions=False) as api:
        big = api.post(
            f"/api/v1/applications/{app_id}/documents",
            data={"doc_type": "photo"},
            files={"file": ("scan.pdf", PDF + b"0" * (13 * MB), "application/pdf")},
            headers=headers,
        )
        wrong = api.post(
            f"/api/v1/applications/{app_id}/documents",
            data={"doc_type": "photo"},
            files={"file": ("scan.txt", b"plain words", "text/plain")},
            headers=headers,
        )
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    assert set(big.json()["error"]["message"]) == {"ko", "en"}
    assert wrong.status_code == 415 and wrong.json()["error"]["code"] == "file_type"


def test_a_role_without_the_permission_is_told_what_and_which_action(app, role_users, engine, login, app_id):
    from tests.hardening.uploads_support import tokens_for

    from regionvisa.accounts.policy import ACTIONS

    what = str(ACTIONS["applications.recommend"].description)
    headers = tokens_for(engine, role_users)["committee_member"]
    with TestClient(app, raise_server_exceptions=False) as api:
        refused = api.post(
            f"/api/v1/applications/{app_id}/documents",
            data={"doc_type": "photo"},
            files={"file": ("scan.pdf", PDF, "application/pdf")},
            headers=headers,
        )
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert "applications.recommend" in message["en"] and "applications.recommend" in message["ko"]
    assert what in message["en"]  # worded as every other permission refusal
    with TestClient(app) as c:
        token = login(c, role_users["committee_member"]["username"])
        page = _upload(c, token, app_id, "en", content=PDF, ctype="application/pdf")
    assert page.status_code == 403 and what in page.text  # not a form error: the usual refusal page
