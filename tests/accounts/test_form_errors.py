"""The account forms follow the form pattern: a refused post gives the same page back with an error
summary linked to the field, the message beside the field with its label in the page's language,
what was typed kept (never a password: the page says to type it again) and the refusal's status."""

from __future__ import annotations

import re

import pytest
from tests.conftest import csrf_from


def summary_links(html: str) -> list[str]:
    assert 'id="error-summary"' in html, "no error summary"
    box = html.split('id="error-summary"')[1].split("</div>")[0]
    return re.findall(r'<a href="#([^"]+)"', box)


def beside(html: str, field_id: str) -> str:
    """The message shown beside the field whose input has id `field_id`."""
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no message beside #{field_id}"
    return re.sub(r"<[^>]+>", "", match.group(1))


NEW = {"username": "p.three", "display_name": "Pat Three", "role": "regional_official", "region": ""}


@pytest.mark.parametrize(
    ("lang", "message"),
    [("en", "Region (regional officials only): a regional official"), ("ko", "지역 담당자는 한 개 지역에")],
)
def test_create_user_refused_keeps_the_form(client, login, role_users, lang, message):
    csrf = login(client, "t.admin")
    client.cookies.set("lang", lang)
    refused = client.post("/admin/users", data={**NEW, "password": "a-long-password-1", "csrf_token": csrf})
    assert refused.status_code == 422
    assert summary_links(refused.text) == ["new-region"]
    assert message in beside(refused.text, "new-region")
    assert 'aria-describedby="new-region-error"' in refused.text
    assert 'value="p.three"' in refused.text and 'value="Pat Three"' in refused.text
    assert '<option value="regional_official" selected>' in refused.text
    assert "a-long-password-1" not in refused.text and 'id="new-password-again"' in refused.text
    assert 'class="error-box" role="alert" id="user-form-error"' not in refused.text


def test_create_user_weak_password_is_beside_the_password(client, login, role_users):
    csrf = login(client, "t.admin")
    client.cookies.set("lang", "en")
    data = {**NEW, "role": "auditor", "password": "short", "csrf_token": csrf}
    refused = client.post("/admin/users", data=data)
    assert refused.status_code == 422 and summary_links(refused.text) == ["new-password"]
    assert beside(refused.text, "new-password").endswith("Password: the password must have at least 10 characters")
    client.cookies.set("lang", "ko")
    korean = client.post("/admin/users", data=data)
    assert "비밀번호는 10자 이상이어야 합니다" in beside(korean.text, "new-password")
    assert "다시 입력해 주세요" in korean.text


def test_taken_user_name_is_a_conflict_beside_the_name(client, login, role_users):
    csrf = login(client, "t.admin")
    client.cookies.set("lang", "en")
    data = {**NEW, "username": "t.busan", "role": "auditor", "password": "correct horse battery staple 9"}
    refused = client.post("/admin/users", data={**data, "csrf_token": csrf})
    assert refused.status_code == 409 and summary_links(refused.text) == ["new-username"]
    assert "User name: user 't.busan' already exists" in beside(refused.text, "new-username").replace("&#39;", "'")


def test_user_page_forms(client, login, role_users):
    csrf = login(client, "t.admin")
    client.cookies.set("lang", "en")
    target = role_users["auditor"]["id"]
    edit = client.post(
        f"/admin/users/{target}",
        data={"display_name": "Renamed", "role": "auditor", "region": "48", "csrf_token": csrf},
    )
    assert edit.status_code == 422 and summary_links(edit.text) == ["region"]
    assert beside(edit.text, "region").endswith(
        "Region (regional officials only): only a regional official is bound to a region"
    )
    assert 'value="Renamed"' in edit.text  # what was typed, not the stored name
    assert re.search(r'<option value="48" selected>', edit.text)
    weak = client.post(f"/admin/users/{target}/password", data={"new_password": "short", "csrf_token": csrf})
    assert weak.status_code == 422 and summary_links(weak.text) == ["set-password"]
    assert "New password: the password must have at least" in beside(weak.text, "set-password")
    assert 'id="set-password-again"' in weak.text
    client.cookies.set("lang", "ko")
    weak_ko = client.post(f"/admin/users/{target}/password", data={"new_password": "short", "csrf_token": csrf})
    assert "새 비밀번호: 비밀번호는" in beside(weak_ko.text, "set-password")
    me = role_users["ministry_admin"]["id"]
    self_off = client.post(f"/admin/users/{me}/active", data={"active": "0", "confirm": "1", "csrf_token": csrf})
    assert self_off.status_code == 409 and summary_links(self_off.text) == ["active-form"]
    assert "자기 계정은 사용 중지할 수 없습니다" in self_off.text
    assert client.post("/admin/users/999999", data={"display_name": "x", "csrf_token": csrf}).status_code == 404


@pytest.mark.parametrize(
    ("lang", "text"),
    [("en", "New password again: The two new passwords differ."), ("ko", "새 비밀번호 확인: 새 비밀번호 두 개가")],
)
def test_own_password_form(client, login, role_users, lang, text):
    csrf = login(client, "t.committee")
    client.cookies.set("lang", lang)
    differ = client.post(
        "/account/password",
        data={"current_password": "x", "new_password": "aaaa-bbbb-1", "confirm_password": "cccc", "csrf_token": csrf},
    )
    assert differ.status_code == 422 and summary_links(differ.text) == ["confirm-password"]
    assert text in beside(differ.text, "confirm-password")
    assert "aaaa-bbbb-1" not in differ.text and 'id="own-password-again"' in differ.text
    wrong = client.post(
        "/account/password",
        data={"current_password": "nope", "new_password": "p" * 16, "confirm_password": "p" * 16, "csrf_token": csrf},
    )
    assert wrong.status_code == 422 and summary_links(wrong.text) == ["current-password"]
    expected = (
        "Current password: the current password is wrong" if lang == "en" else "현재 비밀번호가 틀렸습니다"
    )  # begins with its label
    assert expected in beside(wrong.text, "current-password")


def test_token_form_keeps_the_name_and_period(client, login, role_users):
    csrf = login(client, "t.committee")
    client.cookies.set("lang", "en")
    bad = client.post("/account/tokens", data={"name": "nightly export", "expires_days": "7000", "csrf_token": csrf})
    assert bad.status_code == 422 and summary_links(bad.text) == ["token-expiry"]
    assert "Valid for: Choose a validity period from the list." in beside(bad.text, "token-expiry")
    assert 'value="nightly export"' in bad.text
    client.cookies.set("lang", "ko")
    long_name = client.post("/account/tokens", data={"name": "n" * 80, "expires_days": "365", "csrf_token": csrf})
    assert long_name.status_code == 422 and summary_links(long_name.text) == ["token-name"]
    assert "토큰 이름은 1~64자여야 합니다" in beside(long_name.text, "token-name")
    assert '<option value="365" selected>' in long_name.text


@pytest.mark.parametrize(("lang", "text"), [("en", "The user name or the password is wrong."), ("ko", "틀렸습니다")])
def test_login_refusal_is_in_the_summary(client, role_users, lang, text):
    client.cookies.set("lang", lang)
    form = client.get("/login")
    refused = client.post(
        "/login",
        data={"username": "t.busan", "password": "wrong-one", "csrf_token": csrf_from(form.text), "next": "/"},
    )
    assert refused.status_code == 401 and summary_links(refused.text) == ["username"]
    assert text in beside(refused.text, "login")  # the message keeps the id login-error
    assert 'aria-describedby="login-error"' in refused.text and 'value="t.busan"' in refused.text
    assert "wrong-one" not in refused.text and 'id="password-again"' in refused.text
    # the refusal is about what was typed, not a page that needs a log-in
    assert "Please log in to see this page." not in refused.text and "이 페이지를 보려면" not in refused.text
    needed = client.get("/applications")
    notice = "Please log in to see this page." if lang == "en" else "이 페이지를 보려면 로그인하십시오."
    assert needed.status_code == 401 and notice in needed.text
