"""The engine's evidence and at-risk details in the reader's language, with region names.

The engine writes each finding's evidence and each at-risk detail as a compact, language-neutral
record ("90 of 90 days outside 51; address_report[11010 effective 2025-05-01 reported …]"), kept
as it is in the database, the CSV and the API. Pages show it through `explain`: every known part
becomes a sentence from the catalogue, with area codes shown with their region's name; a part it
does not know is shown as written. `case_note` does the same for the notes a compliance run
writes in a case's history.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from regionvisa.web.i18n import gettext
from regionvisa.web.places import area_label, region_label

_DATE = r"(\d{4}-\d{2}-\d{2})"
_PARTS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"(\d+) of (\d+) days outside ([\d,]+)"),
        lambda m: (
            gettext("%(used)s of %(limit)s days outside %(area)s")
            % {"used": m[1], "limit": m[2], "area": area_label(m[3])}
        ),
    ),
    (
        re.compile(r"address_report\[(\d+) effective " + _DATE + " reported " + _DATE + r"\]"),
        lambda m: (
            gettext("address in %(area)s from %(effective)s, reported on %(reported)s")
            % {"area": region_label(m[1]), "effective": m[2], "reported": m[3]}
        ),
    ),
    (
        re.compile(r"employment\[(\S+) in (\d*) from " + _DATE + r"\]"),
        lambda m: (
            gettext("job at %(employer)s in %(area)s from %(start)s")
            % {"employer": m[1], "area": region_label(m[2]), "start": m[3]}
        ),
    ),
    (
        re.compile(r"status_grant\[(\S+) granted " + _DATE + r"\]"),
        lambda m: gettext("status of %(programme)s granted on %(date)s") % {"programme": m[1], "date": m[2]},
    ),
    (
        re.compile(r"status_grant\[(\S+) " + _DATE + r"\.\." + _DATE + r"\]"),
        lambda m: gettext("status %(visa)s from %(start)s to %(end)s") % {"visa": m[1], "start": m[2], "end": m[3]},
    ),
    (re.compile(r"last movement\[none\]"), lambda m: gettext("no entry or exit on record")),
    (
        re.compile(r"last movement\[entry " + _DATE + r"\]"),
        lambda m: gettext("last movement: entry on %(date)s") % {"date": m[1]},
    ),
    (re.compile(r"movement\[exit " + _DATE + r"\]"), lambda m: gettext("exit on %(date)s") % {"date": m[1]}),
    (re.compile(r"kiip deadline " + _DATE), lambda m: gettext("KIIP deadline %(date)s") % {"date": m[1]}),
    (re.compile(r"no enrolment"), lambda m: gettext("no KIIP enrolment")),
    (re.compile(r"kiip_record\[none\]"), lambda m: gettext("no KIIP record")),
    (
        re.compile(r"kiip_record\[first enrolled " + _DATE + r"\]"),
        lambda m: gettext("first KIIP enrolment on %(date)s") % {"date": m[1]},
    ),
    (re.compile(r"status ends " + _DATE), lambda m: gettext("status ends on %(date)s") % {"date": m[1]}),
    (
        re.compile(r"wage (\d+) below floor (\d+)"),
        lambda m: (
            gettext("annual wage %(wage)s KRW, below the floor of %(floor)s KRW")
            % {"wage": f"{int(m[1]):,}", "floor": f"{int(m[2]):,}"}
        ),
    ),
    (
        re.compile(r"occupation (\S+) not listed for (\S+)"),
        lambda m: (
            gettext("occupation %(code)s is not on the list of %(programme)s") % {"code": m[1], "programme": m[2]}
        ),
    ),
    (
        re.compile(
            r"employer (\S+): (\d+) of (\d+) foreign staff hold a programme E-7 status, above share ([\d.]+) "
            r"\(at least (\d+)\)"
        ),
        lambda m: (
            gettext(
                "employer %(employer)s: %(holders)s of its %(staff)s foreign staff hold a programme E-7 status, "
                "above the declared share of %(share)s (with at least %(least)s holders)"
            )
            % {
                "employer": m[1],
                "holders": m[2],
                "staff": m[3],
                "share": f"{float(m[4]) * 100:g}%",
                "least": m[5],
            }
        ),
    ),
    (
        re.compile(r"employment\[(\S+) from " + _DATE + r"\]"),
        lambda m: gettext("job at %(employer)s from %(start)s") % {"employer": m[1], "start": m[2]},
    ),
    (
        re.compile(r"no address report since grant " + _DATE),
        lambda m: gettext("no address reported since the grant on %(date)s") % {"date": m[1]},
    ),
    (
        re.compile(r"no address report since " + _DATE),
        lambda m: gettext("no address reported since %(date)s") % {"date": m[1]},
    ),
    (re.compile(r"no later status"), lambda m: gettext("no later status")),
]
_OUTSIDE = re.compile(r"outside ([\d,]+): (.*)")


def _part(text: str) -> str:
    outside = _OUTSIDE.fullmatch(text)
    if outside:
        return gettext("outside %(area)s: %(item)s") % {"area": area_label(outside[1]), "item": _part(outside[2])}
    for pattern, say in _PARTS:
        found = pattern.fullmatch(text)
        if found:
            return say(found)
    return text


def explain(text: str | None) -> str:
    """The evidence or detail as the page's reader reads it (parts separated by "; ")."""
    if not text:
        return ""
    return "; ".join(_part(part) for part in text.split("; "))


# The notes a compliance run writes in a case's history (cases._event): language-neutral records,
# and, in rows written before them, the English sentences they replaced (shown in the reader's
# language all the same). `on` is the run's as-of date, `run` its id.
_RUN = r"\[run (?P<run>\d+) as of (?P<on>\d{4}-\d{2}-\d{2})\]"
_OLD_RUN = r" as of (?P<on>\d{4}-\d{2}-\d{2}) \(run (?P<run>\d+)\)"
_CHANGE = re.compile(r"(start|end) (\S+) → (\S+)")
_NOTES: list[tuple[tuple[re.Pattern[str], ...], Callable[[re.Match[str]], str]]] = [
    (
        (re.compile(r"opened" + _RUN), re.compile(r"Opened by the compliance run" + _OLD_RUN + r"\.")),
        lambda m: gettext("Opened by the compliance run as of %(on)s (run %(run)s).") % m.groupdict(),
    ),
    (
        (re.compile(r"finding_back" + _RUN), re.compile(r"The finding is found again" + _OLD_RUN + r"\.")),
        lambda m: gettext("The finding is found again as of %(on)s (run %(run)s).") % m.groupdict(),
    ),
    (
        (
            re.compile(r"finding_changed" + _RUN + r": (?P<changes>.*)"),
            re.compile(r"The finding changed" + _OLD_RUN + r": (?P<changes>.*)\."),
        ),
        lambda m: (
            gettext("The finding changed as of %(on)s (run %(run)s): %(changes)s.")
            % {**m.groupdict(), "changes": "; ".join(_change(c) for c in m["changes"].split("; "))}
        ),
    ),
    (
        (
            re.compile(r"finding_gone" + _RUN + r": (?P<evidence>.*)", re.DOTALL),
            re.compile(
                r"The finding is no longer found" + _OLD_RUN + r": records that arrived since the case was opened "
                r"change the answer\. It relied on: (?P<evidence>.*)",
                re.DOTALL,
            ),
        ),
        lambda m: (
            gettext(
                "The finding is no longer found as of %(on)s (run %(run)s): records that arrived since the case "
                "was opened change the answer. It relied on: %(evidence)s"
            )
            % {**m.groupdict(), "evidence": explain(m["evidence"])}
        ),
    ),
]


def _change(text: str) -> str:
    found = _CHANGE.fullmatch(text)
    if not found:
        return text
    dates = {"before": found[2], "after": found[3]}
    if found[1] == "start":
        return gettext("start %(before)s → %(after)s") % dates
    return gettext("end %(before)s → %(after)s") % dates


def case_note(text: str | None) -> str:
    """A case history note as the page's reader reads it: the run's own notes from the catalogue
    (old English rows too); a person's note, or anything else, as written."""
    if not text:
        return ""
    for patterns, say in _NOTES:
        for pattern in patterns:
            found = pattern.fullmatch(text)
            if found:
                return say(found)
    return text
