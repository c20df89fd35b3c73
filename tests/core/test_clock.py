"""One time convention: KST, labelled, on pages; RFC 3339 with an offset in the API and exports."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, insert, select
from tests.actors import OFFICER

from regionvisa.audit.models import AuditEntry
from regionvisa.audit.service import record
from regionvisa.core import clock
from regionvisa.db import session_scope, utcnow
from regionvisa.reports.files import write_csv_safe
from regionvisa.web import i18n
from regionvisa.web.responses import json_response
from regionvisa.web.templating import environment

INSTANT = dt.datetime(2026, 12, 2, 10, 5, tzinfo=dt.UTC)


def test_naive_and_text_instants_are_utc():
    for value in (INSTANT, INSTANT.replace(tzinfo=None), "2026-12-02T10:05:00", "2026-12-02T19:05:00+09:00"):
        assert clock.as_utc(value) == INSTANT
    assert clock.rfc3339(INSTANT.replace(tzinfo=None)) == "2026-12-02T10:05:00Z"
    assert clock.kst_text(INSTANT) == "2026-12-02 19:05"
    assert clock.kst_text("2026-12-02T15:30:00") == "2026-12-03 00:30"  # the Korean day has turned


def test_the_page_filter_names_the_zone_in_the_page_language():
    template = environment().from_string("{{ at|kst }}|{{ at|kst(seconds=True) }}|{{ none|kst }}")
    for lang, label in (("en", "2026-12-02 19:05 KST"), ("ko", "2026-12-02 19:05 (한국 표준시)")):
        token = i18n.current_language.set(lang)
        try:
            shown = template.render(at=INSTANT.replace(tzinfo=None), none=None).split("|")
        finally:
            i18n.current_language.reset(token)
        assert shown[0] == label and shown[1].startswith("2026-12-02 19:05:00") and shown[2] == "–"


def test_stored_instants_come_back_aware_in_utc(engine):
    korean = INSTANT.astimezone(clock.KST)  # an aware non-UTC time is stored as its UTC instant
    table = Table(
        "clock_probe", MetaData(), Column("id", Integer, primary_key=True), Column("at", DateTime(timezone=True))
    )
    table.create(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(table).values(id=1, at=korean))
            stored = conn.execute(select(table.c.at)).scalar_one()
            later = conn.execute(select(table.c.id).where(table.c.at >= INSTANT - dt.timedelta(seconds=1))).all()
    finally:
        table.drop(engine)
    assert stored.utcoffset() == dt.timedelta(0) and stored == INSTANT and later == [(1,)]


def test_api_and_exports_give_an_offset():
    body = json_response({"at": INSTANT.replace(tzinfo=None), "on": dt.date(2026, 12, 2)}).body.decode()
    assert body == '{"at":"2026-12-02T10:05:00Z","on":"2026-12-02"}'
    frame = pl.DataFrame({"at": [INSTANT.replace(tzinfo=None)], "kst": [INSTANT.astimezone(clock.KST)]})
    assert write_csv_safe(frame).splitlines()[1] == "2026-12-02T10:05:00Z,2026-12-02T10:05:00Z"


def test_audit_api_times_carry_an_offset(client, engine, role_users, login):
    with session_scope(engine=engine) as session:
        record(session=session, actor=OFFICER, action="auth.login", subject=("user", "x"), reason="r")
    login(client, "t.auditor")
    items = client.get("/api/v1/audit").json()["items"]
    assert items and all(e["at"].endswith(("Z", "+00:00")) for e in items)


def test_a_replay_dates_business_times_and_the_audit_entry_names_it(engine):
    taken = dt.datetime(2025, 6, 3, 10, 30, tzinfo=clock.KST)
    before = dt.datetime.now(dt.UTC)
    with clock.replaying(taken) as at:
        assert at == taken and clock.replayed() == taken and utcnow() == taken
        with session_scope(engine=engine) as session:
            record(
                session=session,
                actor=OFFICER,
                action="test.replayed",
                subject=("test", 1),
                reason="history written later",
            )
    assert clock.replayed() is None and utcnow() >= before  # the clock is back
    with session_scope(engine=engine) as session:
        entry = session.execute(
            select(AuditEntry.at, AuditEntry.inputs).where(AuditEntry.action == "test.replayed")
        ).one()
    assert clock.as_utc(entry.at) >= before  # the audit log keeps the instant it was recorded at
    assert entry.inputs == {"effective_at": "2025-06-03T01:30:00Z"}


def test_a_replay_refuses_a_naive_or_future_instant():
    with pytest.raises(ValueError, match="offset"):
        clock.replaying(dt.datetime(2025, 6, 3, 10, 30)).__enter__()
    with pytest.raises(ValueError, match="future"):
        clock.replaying(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).__enter__()
    assert clock.replayed() is None
