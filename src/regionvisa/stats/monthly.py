"""The monthly statistics workbook (통계월보 breakdowns) from the records as known at a month end:
read once (Arrow columns on a SQLite file or PostgreSQL), computed by `stats.bulletin`, laid out
as XLSX in Korean or English. Run as a job (`monthly_statistics`): at national scale it reads
every resident's records."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

import polars as pl
from sqlalchemy.engine import Engine

from regionvisa.accounts.policy import ALL, Actor, grant
from regionvisa.core.errors import Invalid
from regionvisa.records import columnar
from regionvisa.records.frames import KNOWN_BY, read_known_all
from regionvisa.regions.service import region_codes
from regionvisa.reports.files import write_xlsx_safe
from regionvisa.reports.locale import region_name
from regionvisa.stats import bulletin
from regionvisa.web.i18n import translate
from regionvisa.web.labels import N_

MONTH = re.compile(r"^(19|20)\d{2}-(0[1-9]|1[0-2])$")
WANTED = {
    "person": ["person_id", "nationality"],
    "status_grant": ["person_id", "visa", "region", "valid_from", "valid_to", "granted_on"],
    "movement": ["person_id", "direction", "date"],
    "address_report": ["person_id", "area_code", "effective_date", "reported_date"],
}


@dataclass(frozen=True)
class MonthlyStatistics:
    month: str
    end: dt.date
    summary: dict[str, int]
    by_status_and_region: pl.DataFrame
    by_district: pl.DataFrame
    by_nationality: pl.DataFrame
    flows: pl.DataFrame


def job_region(actor: Actor) -> str | None:
    """The region a statistics job is filed under, so that whoever started it can follow it: a
    regional official's own (the workbook itself holds every region's aggregates, as the public
    overview does), none for national readers."""
    return None if grant(actor, "stats.read") == ALL else actor.region


def parse_month(text: str) -> str:
    if not MONTH.fullmatch(text or ""):
        raise Invalid(
            code="invalid_month",
            field="month",
            ko=f"월: ‘{text}’은(는) 연-월 형식이 아닙니다. 예: 2025-06",
            en=f"month: ‘{text}’ is not a year and month. Write it as, for example, 2025-06.",
        )
    return text


def _read(engine: Engine, end: dt.date) -> dict[str, pl.DataFrame]:
    if columnar.has_column_reads(engine=engine):
        return columnar.read_columns(engine=engine, wanted=WANTED, as_of=end)
    with columnar.batch_reads(engine=engine) as reads:
        frames = read_known_all(reads=reads, tables={t: (end if t in KNOWN_BY else None) for t in WANTED})
    return {t: frames[t].select(cols) for t, cols in WANTED.items()}


def _as_known(frames: dict[str, pl.DataFrame], on: dt.date) -> dict[str, pl.DataFrame]:
    """The frames cut back to what was known on an earlier day `on`."""
    return {t: f.filter(pl.col(KNOWN_BY[t]) <= on) if t in KNOWN_BY else f for t, f in frames.items()}


def _detail(frames: dict[str, pl.DataFrame], on: dt.date) -> pl.DataFrame:
    addresses = frames["address_report"].filter(pl.col("effective_date") <= on)
    return bulletin.residents_detail(frames["person"], frames["status_grant"], frames["movement"], addresses, on)


def monthly_statistics(*, engine: Engine, month: str) -> MonthlyStatistics:
    end = bulletin.month_end(parse_month(month))
    start = end.replace(day=1)
    previous_end = start - dt.timedelta(days=1)
    frames = _read(engine, end)
    detail = _detail(frames, end)
    previous = _detail(_as_known(frames, previous_end), previous_end)
    visas = sorted(set(detail["visa"].drop_nulls().to_list()))
    flow = bulletin.flows(frames["status_grant"], frames["movement"], month_start=start, end=end)
    return MonthlyStatistics(
        month=month,
        end=end,
        summary=bulletin.summary(detail, previous, flow),
        by_status_and_region=bulletin.by_status_and_region(detail, region_codes()),
        by_district=bulletin.by_district(detail, visas),
        by_nationality=bulletin.by_nationality(detail, visas),
        flows=flow,
    )


# ------------------------------------------------------------------------------------ workbook

# The workbook's words: message ids of the catalogue (stats.po), put in the workbook's language.
TEXT = {
    "title": N_("Foreign residents %(month)s (as of %(end)s)"),
    "summary": N_("Summary"),
    "status_region": N_("By status and province"),
    "district": N_("By district"),
    "nationality": N_("By nationality"),
    "flows": N_("Entries and exits"),
    "definitions": N_("Definitions"),
    "visa": N_("Status of stay"),
    "region": N_("Province"),
    "district_code": N_("District code"),
    "nationality_code": N_("Nationality"),
    "country": N_("Country"),
    "total": N_("Total"),
    "illegal": N_("of which illegal stay"),
    "entries_month": N_("Entries (month)"),
    "exits_month": N_("Exits (month)"),
    "entries_year": N_("Entries (year to date)"),
    "exits_year": N_("Exits (year to date)"),
    "residents": N_("Foreign residents"),
    "residents_previous_month": N_("Foreign residents at the end of the previous month"),
    "change": N_("Change on the previous month"),
    "item": N_("Item"),
    "value": N_("Value"),
    "unknown_district": N_("district unknown"),
}
DEFINITIONS = (
    N_(
        "Foreign resident: holds a status granted by the day and their last movement is not an exit; "
        "the region is that of the latest address in force, else of the latest status."
    ),
    N_("Status of stay: the status covering the day, else the last status granted."),
    N_(
        "Illegal stay: a status had begun but none covers the day. "
        "Included in every total and marked in its own column."
    ),
    N_(
        "Entries and exits: recorded in the month and from 1 January to the day, "
        "by the status held on the day of the movement."
    ),
)


def workbook_bytes(stats: MonthlyStatistics, *, lang: str = "ko") -> bytes:
    """The workbook: summary, status × province, districts, nationalities, flows, definitions."""
    import xlsxwriter

    from regionvisa.web.places import country_name

    t = {key: translate(lang, message) for key, message in TEXT.items()}
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
        title = t["title"] % {"month": stats.month, "end": stats.end.isoformat()}
        workbook.set_properties({"title": title})

        def sheet(frame: pl.DataFrame, name: str) -> None:
            write_xlsx_safe(frame, workbook, worksheet=t[name], position="A3", autofit=True)
            workbook.get_worksheet_by_name(t[name]).write(0, 0, title)

        summary = pl.DataFrame({t["item"]: [t[k] for k in stats.summary], t["value"]: list(stats.summary.values())})
        sheet(summary, "summary")
        regions = {c: region_name(c, lang) for c in region_codes()}
        sheet(
            stats.by_status_and_region.rename(
                {"visa": t["visa"], "total": t["total"], "illegal": t["illegal"], **regions}
            ),
            "status_region",
        )
        districts = stats.by_district.with_columns(
            pl.col("region").replace_strict(regions, default=pl.col("region")),
            pl.col("district").replace({bulletin.UNKNOWN_DISTRICT: t["unknown_district"]}),
        )
        sheet(
            districts.rename(
                {"region": t["region"], "district": t["district_code"], "total": t["total"], "illegal": t["illegal"]}
            ),
            "district",
        )
        codes = stats.by_nationality["nationality"].to_list()
        nationality = stats.by_nationality.insert_column(
            1, pl.Series(t["country"], [country_name(c, lang) for c in codes], dtype=pl.String)
        )
        sheet(
            nationality.rename({"nationality": t["nationality_code"], "total": t["total"], "illegal": t["illegal"]}),
            "nationality",
        )
        sheet(stats.flows.rename({"visa": t["visa"], **{k: t[k] for k in stats.flows.columns if k != "visa"}}), "flows")
        sheet(pl.DataFrame({t["definitions"]: [translate(lang, d) for d in DEFINITIONS]}), "definitions")
    return buffer.getvalue()
