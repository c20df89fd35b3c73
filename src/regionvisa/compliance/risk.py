"""Programme holders close to a limit on a reference date (the dashboards' at-risk lists):
those whom no finding names yet but who will be named within `within` days if nothing changes.

Pure Polars over the same record frames as `compliance.engine`, and built from its pieces
(visible records, obligations, residence spells, days arithmetic), so a holder at risk today is
exactly one whom the engine would find once the days left have passed.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from regionvisa.compliance.engine import (
    days_between,
    iso_date,
    obligations,
    plus_days,
    programmes_frame,
    residence_spells,
    resolve_versions,
    visible,
)
from regionvisa.compliance.rules import RuleSettings
from regionvisa.rules.periods import add_months_expr

AT_RISK_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String(),
    "rule": pl.String(),
    "program_id": pl.String(),
    "region": pl.String(),
    "days_left": pl.Int64(),
    "limit_date": pl.Date(),
    "detail": pl.String(),
}


def _risk(df: pl.DataFrame, rule: str) -> pl.DataFrame:
    return df.select(
        pl.col("person_id").cast(pl.String),
        pl.lit(rule).alias("rule"),
        pl.col("program_id").cast(pl.String),
        pl.col("programme_region").cast(pl.String).alias("region"),
        pl.col("days_left").cast(pl.Int64),
        pl.col("limit_date").cast(pl.Date),
        pl.col("detail").cast(pl.String),
    )


def _silent_holders(
    obl: pl.DataFrame, spells: pl.DataFrame, addresses: pl.DataFrame, settings: RuleSettings
) -> pl.DataFrame:
    """Holders of a running obligation who have reported no address for more than `silent_days`
    days (since their latest report, else since the grant), before any finding has started."""
    on, limit = settings.on, settings.max_days_outside
    used = (
        spells.group_by("obligation").agg(pl.col("length").sum().alias("used"))
        if spells.height
        else pl.DataFrame(schema={"obligation": pl.UInt32, "used": pl.Int64})
    )
    last = addresses.group_by("person_id").agg(pl.col("reported_date").max().alias("last_reported"))
    quiet = (
        obl.filter(pl.col("period_end") > on)
        .join(last, on="person_id", how="left")
        .join(used, on="obligation", how="left")
        .with_columns(
            pl.coalesce("last_reported", "granted_on").alias("since"),
            (limit - pl.col("used").fill_null(0)).alias("days_left"),
        )
        .filter((days_between(pl.col("since"), pl.lit(on)) > settings.silent_days) & (pl.col("days_left") >= 0))
    )
    return _risk(
        quiet.with_columns(
            pl.lit(None, pl.Date).alias("limit_date"),
            pl.when(pl.col("last_reported").is_null())
            .then(pl.format("no address report since grant {}", iso_date(pl.col("granted_on"))))
            .otherwise(pl.format("no address report since {}", iso_date(pl.col("last_reported"))))
            .alias("detail"),
        ),
        "residence_obligation",
    )


def at_risk(
    frames: Mapping[str, pl.DataFrame],
    programmes: pl.DataFrame | None,
    settings: RuleSettings,
    within: Mapping[str, int],
) -> pl.DataFrame:
    """Programme holders near a limit but not over it on DATE, `within` days or fewer away.

    * residence_obligation: the obligation period is still running and the days outside so
      far leave `days_left` = max_days_outside − used ≤ within, or the holder lives outside the
      area now (an early warning, however many days are left). `limit_date` is the day the
      finding would start if the holder stays where they are (only when outside now). Also an
      early warning: no address report for more than `silent_days` days (since the latest report,
      or since the grant when there is none), `limit_date` empty.
    * integration_obligation: no KIIP enrolment yet and the deadline is `days_left` days away.
    * illegal_stay: the holder's last status ends in `days_left` days, with no later status.
    """
    on = settings.on
    seen = visible(frames, on)
    progs = programmes_frame(programmes)
    statuses = seen["status_grant"]
    parts = [pl.DataFrame(schema=AT_RISK_SCHEMA)]

    limit = settings.max_days_outside
    obl, spells = residence_spells(statuses, seen["address_report"], seen["employment"], progs, on)
    if obl.height and spells.height and "residence_obligation" in within:
        used = spells.group_by("obligation").agg(
            pl.col("length").sum().alias("used"), pl.col("e").max().alias("last_end"), pl.col("item").last()
        )
        running = obl.filter(pl.col("period_end") > on).join(used, on="obligation", how="inner")
        outside_now = pl.col("last_end") >= pl.col("window_end")
        near = running.with_columns((limit - pl.col("used")).alias("days_left")).filter(
            (pl.col("days_left") >= 0) & ((pl.col("days_left") <= within["residence_obligation"]) | outside_now)
        )
        parts.append(
            _risk(
                near.with_columns(
                    pl.when(outside_now)
                    .then(plus_days(pl.lit(on), pl.col("days_left") + 1))
                    .otherwise(None)
                    .alias("limit_date"),
                    pl.format(
                        "{} of {} days outside {}; {}",
                        pl.col("used"),
                        pl.lit(limit),
                        pl.col("residence_area").list.join(","),
                        pl.col("item"),
                    ).alias("detail"),
                ),
                "residence_obligation",
            )
        )

    if obl.height and "residence_obligation" in within:
        parts.append(_silent_holders(obl, spells, seen["address_report"], settings))

    if "integration_obligation" in within:
        due = (
            obligations(statuses, progs.filter(pl.col("kiip_deadline_months").is_not_null()), on)
            .with_columns(add_months_expr(pl.col("granted_on"), pl.col("kiip_deadline_months")).alias("deadline"))
            .with_columns(days_between(pl.lit(on), pl.col("deadline")).alias("days_left"))
            .filter((pl.col("days_left") >= 0) & (pl.col("days_left") <= within["integration_obligation"]))
            .join(seen["kiip_record"].select("person_id").unique(), on="person_id", how="anti")
        )
        parts.append(
            _risk(
                due.with_columns(
                    plus_days(pl.col("deadline"), 1).alias("limit_date"),
                    pl.format("kiip deadline {}; no enrolment", iso_date(pl.col("deadline"))).alias("detail"),
                ),
                "integration_obligation",
            )
        )

    if "illegal_stay" in within:
        holders = resolve_versions(statuses, progs).select("person_id", "program_id", "programme_region", "granted_on")
        holders = holders.sort(["person_id", "granted_on"]).group_by("person_id", maintain_order=True).last()
        ends = statuses.group_by("person_id").agg(pl.col("valid_to").max().alias("last_valid_to"))
        ending = (
            holders.join(ends, on="person_id", how="inner")
            .with_columns(days_between(pl.lit(on), pl.col("last_valid_to")).alias("days_left"))
            .filter((pl.col("days_left") >= 0) & (pl.col("days_left") <= within["illegal_stay"]))
        )
        parts.append(
            _risk(
                ending.with_columns(
                    plus_days(pl.col("last_valid_to"), settings.grace_days + 1).alias("limit_date"),
                    pl.format("status ends {}; no later status", iso_date(pl.col("last_valid_to"))).alias("detail"),
                ),
                "illegal_stay",
            )
        )
    return pl.concat(parts).sort(["days_left", "person_id", "rule"])
