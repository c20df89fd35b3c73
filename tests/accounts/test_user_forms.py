"""The user administration forms: no privileged default, and retiring an account is confirmed."""

from __future__ import annotations

from sqlalchemy import select

from regionvisa.accounts.models import User
from regionvisa.db import session_scope

NEW = {"username": "p.two", "display_name": "P", "region": "", "password": "a-long-password-1"}


def test_create_user_preselects_no_role(client, login, role_users):
    csrf = login(client, "t.admin")
    page = client.get("/admin/users?lang=en").text
    select_html = page.split('id="new-role"')[1].split("</select>")[0]
    assert '<option value="" selected>Choose a role</option>' in select_html
    assert select_html.count(" selected") == 1  # the empty option, not ministry administrator
    refused = client.post("/admin/users?lang=en", data={**NEW, "role": "", "csrf_token": csrf})
    assert refused.status_code == 422 and "Role: choose a role" in refused.text and 'value="p.two"' in refused.text


def test_disabling_a_user_asks_for_confirmation(client, login, engine, role_users):
    csrf = login(client, "t.admin")
    user_id = role_users["auditor"]["id"]

    def active() -> bool:
        with session_scope(engine=engine) as session:
            return session.scalar(select(User.is_active).where(User.id == user_id))

    asked = client.post(f"/admin/users/{user_id}/active?lang=en", data={"active": "0", "csrf_token": csrf})
    assert asked.status_code == 200 and 'id="confirm-disable"' in asked.text
    assert 'name="confirm" value="1"' in asked.text and "No, keep the account active" in asked.text
    assert active() is True  # nothing changed yet
    done = client.post(
        f"/admin/users/{user_id}/active",
        data={"active": "0", "confirm": "1", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303 and active() is False
    back = client.post(
        f"/admin/users/{user_id}/active", data={"active": "1", "csrf_token": csrf}, follow_redirects=False
    )
    assert back.status_code == 303 and active() is True  # enabling again needs no confirmation


def test_user_list_page_numbers(client, login, role_users):
    login(client, "t.admin")
    assert client.get("/admin/users?page=x&lang=en").status_code == 422
    beyond = client.get("/admin/users?page=2&lang=en")
    assert beyond.status_code == 404 and "There is no page 2: this list has pages 1 to 1." in beyond.text
    assert 'id="first-page"' in beyond.text and "/admin/users?lang=en&amp;page=1" in beyond.text  # a way on
