"""Processing times read through the actor and policy of the transports: the service, the API, the
export and the page, for every role, on the real app and database."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
from sqlalchemy import update
from tests.actors import AUDITOR, BUSAN, OFFICER, SYSTEM
from tests.samples import PROFILE

from regionvisa.applications import intake
from regionvisa.applications.models import Application, ApplicationEvent
from regionvisa.config import get_settings
from regionvisa.core.actor import Actor
from regionvisa.core.errors import DomainError
from regionvisa.db import session_scope
from regionvisa.processing import service

UTC = dt.UTC
NOW = dt.datetime(2025, 8, 1, tzinfo=UTC)
COMMITTEE = Actor(id=None, username="t.committee", display_name="Committee member", role="committee_member")


def _move(session, app_id: int, steps: list[tuple[str, dt.datetime]]) -> None:
    """Give an application a history: its submission and screening at the first instant, then
    each (state, instant). The history rows are what the application's page shows."""
    first = steps[0][1]
    session.execute(update(ApplicationEvent).where(ApplicationEvent.application_id == app_id).values(at=first))
    session.execute(update(Application).where(Application.id == app_id).values(submitted_at=first))
    before = "screened"
    for state, when in steps[1:]:
        session.add(
            ApplicationEvent(
                application_id=app_id, from_status=before, to_status=state, move=state, actor="t", at=when, reason=""
            )
        )
        before = state
    session.execute(update(Application).where(Application.id == app_id).values(status=before))


@pytest.fixture
def histories(engine, test_data):
    """Busan: three applications of 2 June issued in 10, 20 and 30 days, one waiting since 10 July;
    Incheon (another region): one issued in 3 days."""
    from regionvisa.programs import service as programs

    def day(m: int, d: int) -> dt.datetime:
        return dt.datetime(2025, m, d, 9, tzinfo=UTC)

    test_data.publish_busan(engine)
    with session_scope(engine=engine) as session:
        programs.load_files(
            session=session,
            paths=[get_settings().policy_dir / "programs" / "28" / "incheon-d2.yaml"],
            actor=SYSTEM,
            publish=True,
        )
        ids = [
            intake.submit(
                session=session,
                program_id=program,
                applicant=dict(PROFILE, university_region=region),
                name=f"Applicant {i}",
                passport_no=f"PT{1000000 + i}",
                actor=SYSTEM,
                on=dt.date(2025, 6, 2),
            ).id
            for i, (program, region) in enumerate([("busan-d2", "26")] * 4 + [("incheon-d2", "28")])
        ]
        for app_id, total in zip(ids[:3], (10, 20, 30), strict=True):
            start = day(6, 2)
            _move(
                session,
                app_id,
                [
                    (None, start),
                    ("recommended", start + dt.timedelta(days=total / 2)),
                    ("approved", start + dt.timedelta(days=total - 1)),
                    ("issued", start + dt.timedelta(days=total)),
                ],
            )
        _move(session, ids[3], [(None, day(7, 10)), ("recommended", day(7, 12))])
        _move(
            session,
            ids[4],
            [(None, day(6, 2)), ("recommended", day(6, 3)), ("approved", day(6, 4)), ("issued", day(6, 5))],
        )
    return ids


def test_times_backlog_and_risk_for_the_ministry(engine, histories):
    with session_scope(engine=engine) as session:
        view = service.processing_view(session=session, actor=OFFICER, now=NOW)
    totals = {r["program_id"]: r for r in view.totals.to_dicts()}
    assert totals["busan-d2"]["issued"] == 3 and totals["busan-d2"]["median_days"] == 20.0
    assert totals["busan-d2"]["p90_days"] == pytest.approx(28.0)
    assert totals["incheon-d2"]["issued"] == 1 and totals["incheon-d2"]["median_days"] == 3.0
    busan_states = view.states.filter(pl.col("program_id") == "busan-d2")
    recommended = busan_states.filter(pl.col("state") == "recommended").row(0, named=True)
    assert recommended["spells"] == 3 and recommended["open"] == 1
    backlog = view.backlog.filter(pl.col("applications") > 0).select("program_id", "band", "applications").rows()
    assert backlog == [("busan-d2", "14-29", 1)]  # 22 days since 10 July
    # busan-d2 has 3 issued (fewer than the minimum sample of 20): the declared 30 days apply, so
    # the application of 10 July expects its visa on 9 August, before the autumn term.
    assert view.expected.filter(pl.col("program_id") == "busan-d2")["from_sample"].to_list() == [False]
    assert view.at_risk.is_empty()


def test_an_application_expected_after_the_term_is_at_risk(engine, histories):
    with session_scope(engine=engine) as session:
        late = session.get(Application, histories[3])
        start = dt.datetime(2025, 8, 10, 9, tzinfo=UTC)
        _move(session, late.id, [(None, start), ("recommended", start)])
        view = service.processing_view(session=session, actor=OFFICER, now=dt.datetime(2025, 8, 20, tzinfo=UTC))
    rows = view.at_risk.to_dicts()
    assert [(r["application_id"], r["declared_on"], r["late_days"], r["missed"]) for r in rows] == [
        (histories[3], dt.date(2025, 9, 1), 8, False)
    ]


def test_a_regional_official_sees_only_their_region(engine, histories):
    with session_scope(engine=engine) as session:
        view = service.processing_view(session=session, actor=BUSAN, now=NOW)
        assert set(view.totals["region"].to_list()) == {"26"} and view.region == "26"
        with pytest.raises(DomainError) as refused:
            service.processing_view(session=session, actor=BUSAN, region="28", now=NOW)
    assert refused.value.status == 403


def test_roles_without_the_application_grant_are_refused(engine, histories):
    with session_scope(engine=engine) as session:
        assert service.processing_view(session=session, actor=AUDITOR, now=NOW).totals.height == 2
        with pytest.raises(DomainError) as refused:
            service.processing_view(session=session, actor=COMMITTEE, now=NOW)
    assert refused.value.status == 403


def test_api_page_and_export_agree(engine, histories, client, role_users, login):
    login(client, "t.officer")
    answer = client.get("/api/v1/processing", params={"at": "2025-07-31"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["as_of"] == "2025-08-01T00:00:00Z"
    busan = next(r for r in body["totals"] if r["program_id"] == "busan-d2")
    assert busan["median_days"] == 20.0
    xlsx = client.get("/api/v1/processing/export", params={"format": "xlsx", "at": "2025-07-31"})
    assert xlsx.status_code == 200
    sheets = pl.read_excel(io.BytesIO(xlsx.content), sheet_id=0)
    assert set(sheets) == {"states", "totals", "backlog", "at_risk"}
    assert sheets["totals"].filter(pl.col("program_id") == "busan-d2")["median_days"].to_list() == [20.0]
    csv = client.get("/api/v1/processing/export", params={"format": "csv", "at": "2025-07-31"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert pl.read_csv(io.BytesIO(csv.content)).height == len(body["states"])

    page = client.get("/processing", params={"at": "2025-07-31"})
    assert page.status_code == 200
    assert 'id="totals"' in page.text and "busan-d2" in page.text and "20.0" in page.text
    assert "부산광역시" in page.text and "인천광역시" in page.text


def test_page_for_the_regional_official_and_bad_filters(engine, histories, client, role_users, login):
    login(client, "t.busan")
    page = client.get("/processing", params={"at": "2025-07-31"})
    assert page.status_code == 200 and "busan-d2" in page.text and "incheon-d2" not in page.text
    assert client.get("/processing", params={"region": "28"}).status_code == 403
    assert client.get("/api/v1/processing", params={"region": "28"}).status_code == 403
    bad = client.get("/processing", params={"at": "2025-02-30"})
    assert bad.status_code == 422 and "2025-02-30" in bad.text
    assert client.get("/api/v1/processing", params={"program_id": "Bad Id!"}).status_code == 422
