"""Signing in through the real log-in form, the way a person does (Korean labels, the default language)."""

from __future__ import annotations


def log_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("사용자 이름").fill(username)
    page.get_by_label("비밀번호").fill(password)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_load_state()
