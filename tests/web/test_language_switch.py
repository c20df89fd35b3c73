"""The language switch keeps the page, its query and its state, and never leads to a 405."""

from __future__ import annotations

import html
import re

SWITCH = re.compile(r'<a href="([^"]*)" hreflang="(?:en|ko)"')


def switch_of(page: str) -> str:
    match = SWITCH.search(page)
    assert match, "no language switch on the page"
    return html.unescape(match.group(1))


def test_switch_keeps_filters_and_page_number(client, login, role_users):
    login(client, "t.auditor")
    for i in range(3):
        client.get(f"/audit?lang=ko&n={i}")
    link = switch_of(client.get("/audit?actor=t.admin&action=auth.*&lang=ko").text)
    assert link == "/audit?actor=t.admin&action=auth.%2A&lang=en"
    english = client.get(link)
    assert english.status_code == 200 and english.headers["content-language"] == "en"
    assert 'value="t.admin"' in english.text and 'value="auth.*"' in english.text  # the filters kept
    back = switch_of(english.text)
    assert back == "/audit?actor=t.admin&action=auth.%2A&lang=ko"


def test_switch_keeps_the_page_number(client, login, role_users):
    login(client, "t.admin")
    link = switch_of(client.get("/admin/users?page=1&lang=en").text)
    assert link == "/admin/users?page=1&lang=ko" and client.get(link).status_code == 200


def test_after_a_form_post_the_switch_leads_to_a_get_page(client, login, role_users):
    csrf = login(client, "t.admin")
    form = {"username": "x.y", "display_name": "X", "role": "", "password": "a-long-password-1", "csrf_token": csrf}
    # the form post's answer: its own path takes GET too, so without a Referer the link is that page
    answered = client.post("/admin/users?lang=en", data=form)
    assert answered.status_code == 422
    link = switch_of(answered.text)
    assert link == "/admin/users?lang=ko" and client.get(link).status_code == 200
    # with a Referer (a browser sends one), the page the form was on, query kept
    referred = client.post(
        "/admin/users?lang=en", data=form, headers={"referer": "http://testserver/admin/users?page=1"}
    )
    assert switch_of(referred.text) == "/admin/users?page=1&lang=ko"
    # a POST-only path (/account/tokens): its page's own GET address, never the POST path
    token_page = client.post("/account/tokens", data={"name": "t", "expires_days": "99999", "csrf_token": csrf})
    assert token_page.status_code == 422
    link = switch_of(token_page.text)
    assert link.startswith("/account?") and client.get(link).status_code == 200
    # a Referer from another site is not followed
    foreign = client.post("/admin/users?lang=en", data=form, headers={"referer": "https://evil.example/x"})
    assert switch_of(foreign.text) == "/admin/users?lang=ko"


def test_post_only_path_without_canonical_goes_home(app):
    from starlette.requests import Request

    from regionvisa.web.templating import language_switch_url

    scope = {"type": "http", "method": "POST", "path": "/logout", "query_string": b"", "headers": [], "app": app}
    assert language_switch_url(Request(scope), "en") == "/?lang=en"
    scope = {**scope, "path": "/admin/users", "query_string": b"page=2"}
    assert language_switch_url(Request(scope), "en") == "/admin/users?lang=en"
    get = {**scope, "method": "GET", "query_string": b"page=2&lang=ko"}
    assert language_switch_url(Request(get), "en") == "/admin/users?page=2&lang=en"


def test_a_form_posted_again_from_its_refused_page_switches_to_the_page_above(app):
    """The second refusal of a form names the POST address as its Referer: the switch leads to the
    page the action belongs to, never to the POST address (405) or a shape another route takes (422)."""
    from starlette.requests import Request

    from regionvisa.web.templating import language_switch_url

    def switch(path: str, referer: str) -> str:
        headers = [(b"host", b"testserver"), (b"referer", f"http://testserver{referer}".encode())]
        scope = {"type": "http", "method": "POST", "path": path, "query_string": b"", "headers": headers, "app": app}
        return language_switch_url(Request(scope), "en")

    assert switch("/applications/5/approve", "/applications/5/approve") == "/applications/5?lang=en"
    assert switch("/applications/search", "/applications/search") == "/applications?lang=en"
    assert switch("/quotas/3/adjust", "/quotas/3/adjust") == "/quotas/3?lang=en"
    # the first refusal's Referer is the page the form was on: kept with its query
    assert switch("/applications/search", "/applications?status=screened") == "/applications?status=screened&lang=en"
    assert switch("/admin/users", "/admin/users?page=2") == "/admin/users?page=2&lang=en"
