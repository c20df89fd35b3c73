"""What the API and the pages show of a programme: versions and programmes as dictionaries, and
the criteria, points, parameters and national guardrails in plain Korean and English."""

from __future__ import annotations

import datetime as dt

from regionvisa.policyfiles import reference_local
from regionvisa.programs.files import criterion_references
from regionvisa.programs.guardrails import bound_label, describe_bound, guardrails, parameter_label
from regionvisa.programs.models import Program, ProgramVersion
from regionvisa.programs.problems import unit_ko
from regionvisa.programs.service import Resolved
from regionvisa.rules import render
from regionvisa.rules.text import display_value

LANGS = ("ko", "en")


def parameter_labels(name: str) -> dict[str, str]:
    """A parameter's label in Korean and English (its name where the catalogue has none)."""
    return {lang: parameter_label(name, lang) for lang in LANGS}


def version_dict(row: ProgramVersion, *, design: bool = False) -> dict:
    out = {
        "program": row.program_id,
        "version": row.version,
        "status": row.status,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": row.valid_to.isoformat(),
        "digest": row.digest,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "status_changed_by": row.status_changed_by,
        "status_changed_at": row.status_changed_at.isoformat() if row.status_changed_at else None,
    }
    if design:
        out["design"] = row.design
    return out


def program_dict(program: Program, latest: ProgramVersion) -> dict:
    return {
        "id": program.id,
        "region": program.region,
        "base_visa": program.base_visa,
        "title": {"ko": program.title_ko, "en": program.title_en},
        "simplified_procedure": program.simplified_procedure,
        "latest": version_dict(latest),
        "quota": (latest.design or {}).get("quota"),
    }


def criteria_view(program: Resolved, *, on: dt.date | None = None) -> list[dict]:
    """Each criterion in plain Korean and English (label, rule as a sentence, reference), fixed ones marked."""
    checked = program.checked
    fixed = set(program.loaded.fixed_ids)
    written = criterion_references(program.loaded)
    out = []
    for cc in checked.criteria:
        c = cc.criterion
        out.append(
            {
                "id": c.id,
                "label": {"ko": c.label.get("ko") or c.id, "en": c.label.get("en") or c.id},
                "rule": {"ko": render(cc.node, "ko", checked.fields), "en": render(cc.node, "en", checked.fields)},
                "reference": reference_local(written.get(c.id, c.reference)),
                "fixed": c.id in fixed,
                "parameters": list(cc.params),
            }
        )
    return out


def references_view(program: Resolved) -> dict[str, dict[str, str]]:
    """Each criterion's legal reference in Korean and English, by criterion id (national fixed ones too)."""
    return {cid: reference_local(ref) for cid, ref in criterion_references(program.loaded).items()}


def points_view(program: Resolved) -> list[dict]:
    checked = program.checked
    return [
        {
            "id": p.id,
            "points": p.points,
            "rule": {"ko": render(node, "ko", checked.fields), "en": render(node, "en", checked.fields)},
        }
        for p, node in checked.points
    ]


def parameters_view(program: Resolved) -> list[dict]:
    """Every programme parameter with its label and dated values (and where a national default came from)."""
    out = []
    for name, values in sorted(program.rules.parameters.items()):
        out.append(
            {
                "name": name,
                "label": parameter_labels(name),
                "values": [
                    {"from": None if d == dt.date.min else d.isoformat(), "value": display_value(v)}
                    for d, v in values.items()
                ],
                "default_from": program.loaded.defaults_taken.get(name),
                "default_label": default_labels(program.loaded.spec.base_visa, name)
                if name in program.loaded.defaults_taken
                else None,
            }
        )
    return out


def default_labels(base_visa: str, name: str) -> dict[str, str]:
    """Where a national default of a parameter comes from, in Korean and English."""
    rails = guardrails().base_visas[base_visa]
    if name in rails.closed_lists:
        kinds = "/".join(rails.closed_lists[name].subtypes)
        return {"ko": f"국가 {kinds} 직종 목록", "en": f"national {kinds} list"}
    return {lang: bound_label(rails.bounded_parameters[name].default, lang) for lang in LANGS}


def _bound(bound, lang: str) -> str | None:
    return None if bound is None else bound_label(bound, lang)


def guardrails_view(base_visa: str) -> dict:
    """The national guardrails of a base visa, as the programme page shows them."""
    rails = guardrails().base_visas[base_visa]
    return {
        "label": rails.label.model_dump(),
        "fixed": [
            {"id": c.id, "label": c.label.model_dump(), "reference": reference_local(c.reference)}
            for c in rails.fixed_criteria
        ],
        "bounded": [
            {
                "name": name,
                "label": b.label.model_dump(),
                "unit": {"ko": unit_ko(b.unit), "en": b.unit},
                "min": describe_bound(b.min) if b.min is not None else None,
                "max": describe_bound(b.max) if b.max is not None else None,
                "default": describe_bound(b.default),
                # the bounds as the pages show them: a national parameter by its description
                "shown": {
                    lang: {"min": _bound(b.min, lang), "max": _bound(b.max, lang), "default": _bound(b.default, lang)}
                    for lang in LANGS
                },
                "reference": reference_local(b.reference),
            }
            for name, b in rails.bounded_parameters.items()
        ],
        "closed": [
            {
                "name": name,
                "label": c.label.model_dump(),
                "subtypes": list(c.subtypes),
                "reference": reference_local(c.reference),
            }
            for name, c in rails.closed_lists.items()
        ],
    }
