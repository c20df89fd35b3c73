"""Following a job in Chromium (jobs/templates/_jobs_follow.html, static/jobs-follow.js): the page
never reloads itself; "다시 확인" is offered, and the automatic refresh runs only once ticked: it
then puts the job's new state in place without reloading and says it in the polite live region,
and the choice is remembered for the next job page."""

from __future__ import annotations

from playwright.sync_api import expect
from tests.actors import ADMIN
from tests.browser.signin import log_in

from regionvisa.db import session_scope
from regionvisa.jobs import service, worker


def _queued(engine) -> int:
    with session_scope(engine=engine) as session:
        return service.start(session=session, actor=ADMIN, kind="probe", params={"seconds": 0}).id


def test_the_automatic_refresh_is_opt_in_updates_in_place_and_is_remembered(page, site):
    engine = site["engine"]
    log_in(page, *site["accounts"]["ministry_admin"])
    first = _queued(engine)
    page.goto(f"/jobs/{first}")
    expect(page.locator("#job-state")).to_have_attribute("data-state", "queued")
    expect(page.get_by_role("link", name="다시 확인")).to_have_attribute("href", f"/jobs/{first}")
    box = page.get_by_label("자동으로 새로 고침 (2초마다)")
    expect(box).to_be_visible()  # the script shows the choice; without it the box stays hidden
    expect(box).not_to_be_checked()
    assert page.evaluate("localStorage.getItem('regionvisa.jobs.autoRefresh')") is None
    page.evaluate("window.notReloaded = true")
    box.check()
    assert page.evaluate("localStorage.getItem('regionvisa.jobs.autoRefresh')") == "on"
    worker.drain_local(engine=engine)  # the job runs and ends
    expect(page.locator("#job-state")).to_have_attribute("data-state", "succeeded")
    expect(page.locator("#job-announce")).to_contain_text("완료, 100%")
    expect(page.locator("#job-follow")).to_have_count(0)  # nothing left to follow
    assert page.evaluate("window.notReloaded") is True  # updated in place, not reloaded
    assert page.locator('meta[http-equiv="refresh"]').count() == 0

    second = _queued(engine)
    page.goto(f"/jobs/{second}")
    expect(page.get_by_label("자동으로 새로 고침 (2초마다)")).to_be_checked()  # remembered
    page.get_by_label("자동으로 새로 고침 (2초마다)").uncheck()
    assert page.evaluate("localStorage.getItem('regionvisa.jobs.autoRefresh')") is None
    worker.drain_local(engine=engine)
    page.get_by_role("link", name="다시 확인").click()  # without the automatic refresh: by hand
    expect(page.locator("#job-state")).to_have_attribute("data-state", "succeeded")
