"""Hand-built records: each test writes down exactly the statuses, reports and movements it relies on."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

from regionvisa.compliance.rules import RuleSettings, compliance_rules
from regionvisa.records.frames import SCHEMAS


def d(text: str | dt.date | None) -> dt.date | None:
    if text is None or isinstance(text, dt.date):
        return text
    return dt.date.fromisoformat(text)


class Records:
    """Rows for each records table, typed like `records.frames.SCHEMAS` so they can also be inserted."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in SCHEMAS}

    def _person(self, person: str) -> None:
        if not any(r["person_id"] == person for r in self.rows["person"]):
            self.rows["person"].append(
                {"person_id": person, "nationality": "VNM", "birth_date": dt.date(1999, 1, 1), "sex": "F"}
            )

    def status(self, person, valid_from, valid_to, *, granted_on=None, program_id=None, visa="D-2", region="26"):
        self._person(person)
        self.rows["status_grant"].append(
            {
                "person_id": person,
                "visa": visa,
                "subtype": None,
                "program_id": program_id,
                "region": region,
                "valid_from": d(valid_from),
                "valid_to": d(valid_to),
                "granted_on": d(granted_on or valid_from),
            }
        )
        return self

    def address(self, person, area_code, effective, reported=None):
        self._person(person)
        self.rows["address_report"].append(
            {
                "person_id": person,
                "area_code": area_code,
                "effective_date": d(effective),
                "reported_date": d(reported or effective),
            }
        )
        return self

    def move(self, person, direction, date, port="ICN"):
        self._person(person)
        self.rows["movement"].append({"person_id": person, "direction": direction, "date": d(date), "port": port})
        return self

    def kiip(self, person, enrolled_on, completed_on=None, level=0):
        self._person(person)
        self.rows["kiip_record"].append(
            {"person_id": person, "level": level, "enrolled_on": d(enrolled_on), "completed_on": d(completed_on)}
        )
        return self

    def job(self, person, employer_region, start, end=None, employer_id="EMP-1"):
        self._person(person)
        self.rows["employment"].append(
            {
                "person_id": person,
                "employer_id": employer_id,
                "employer_region": employer_region,
                "start_date": d(start),
                "end_date": d(end),
            }
        )
        return self

    def frames(self) -> dict[str, pl.DataFrame]:
        return {t: pl.DataFrame(rows, schema=SCHEMAS[t], orient="row") for t, rows in self.rows.items()}


def programmes(*rows: dict[str, Any]) -> pl.DataFrame:
    """Programme versions in the engine's shape (`compliance.engine.PROGRAMME_SCHEMA`)."""
    from regionvisa.compliance.engine import PROGRAMME_SCHEMA

    base = {"region": "26", "residence_area": ["26"], "obligation_months": 24, "kiip_deadline_months": None}
    extra = {"includes_employment": False, "version": 1, "valid_from": None, "valid_to": None}
    conditions = {"wage_floors": None, "occupation_lists": None}
    return pl.DataFrame([{**extra, **conditions, **base, **r} for r in rows], schema=PROGRAMME_SCHEMA)


BUSAN = {"program_id": "busan-d2", "region": "26", "residence_area": ["26"], "obligation_months": 24}


def settings(on: str | dt.date, **overrides) -> RuleSettings:
    """The shipped compliance.yaml's settings on `on`, with some thresholds changed."""
    return dataclasses.replace(compliance_rules().settings_on(d(on)), **overrides)


def rows(findings: pl.DataFrame, rule: str | None = None) -> list[tuple]:
    """Contract columns as tuples (dates as ISO text), optionally for one rule."""
    if rule is not None:
        findings = findings.filter(pl.col("rule") == rule)
    return [
        (r[0], r[1], r[2], r[3].isoformat(), r[4].isoformat() if r[4] else None, r[5])
        for r in findings.select("person_id", "rule", "program_id", "start_date", "end_date", "days").iter_rows()
    ]


@pytest.fixture
def records() -> Records:
    return Records()


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above, for test modules (which cannot import conftest under importlib mode)."""
    return SimpleNamespace(
        Records=Records, programmes=programmes, BUSAN=BUSAN, settings=settings, rows=rows, d=d, insert=insert_records
    )


RECORD_TABLES = ["status_grant", "address_report", "movement", "kiip_record", "employment"]


def insert_records(engine, frames: dict[str, pl.DataFrame], *, people: bool = True) -> None:
    """Store hand-built records: people through the people feed import (so the person table's
    storage of names and passports stays the records layer's business), the rest directly."""
    from regionvisa.records.bulk import bulk_insert
    from regionvisa.records.service import import_frame

    with engine.begin() as conn:
        if people and frames["person"].height:
            feed = frames["person"].select(
                "person_id",
                pl.lit("Test Person").alias("name"),
                "nationality",
                pl.col("birth_date").dt.to_string("%Y-%m-%d"),
                "sex",
                pl.format(
                    "M{}", pl.col("person_id").str.to_uppercase().str.replace_all("[^A-Z0-9]", "").str.zfill(8)
                ).alias("passport_no"),
            )
            summary, problems = import_frame(conn=conn, kind="people", raw=feed, source="test")
            assert summary.outcome == "committed", problems
        for table in RECORD_TABLES:
            if frames[table].height:
                bulk_insert(conn=conn, table=table, df=frames[table])
