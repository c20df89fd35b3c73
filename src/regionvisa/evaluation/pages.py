"""Annual regional evaluation / 연간 지역 평가: server-rendered pages (thin: calls evaluation.service).

- /evaluation: the published result, rendered with the report's own context and partial, so the
  page and the PDF cannot disagree; the ministry also gets run, publish and quota-plan forms.
- /evaluation/regions/{code}: one region's result (breakdown, contributions, rank interval,
  grade, next grade) and a what-if form (GET: it changes nothing). Region-scoped.
- /evaluation/committee: a committee member's score entry form, with automatic recusal.
Every form works without JavaScript; state-changing ones carry the CSRF token.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import OrderedDict

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlalchemy import select

from regionvisa.accounts.models import User
from regionvisa.accounts.nav import register
from regionvisa.accounts.policy import ALL, Actor, can, grant
from regionvisa.core.errors import DomainError, Invalid
from regionvisa.db import session_scope
from regionvisa.evaluation import flows, service
from regionvisa.jobs.router import launch
from regionvisa.quotas import planning
from regionvisa.quotas.apportion import METHODS
from regionvisa.regions.service import region_names
from regionvisa.reports import charts
from regionvisa.reports.evaluation_context import build_context, region_groups
from regionvisa.reports.evaluation_report import render_body, report_css
from regionvisa.web import forms
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language, gettext
from regionvisa.web.labels import N_
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False)


def _eval_href(user: Actor | None) -> str:
    return f"/evaluation/regions/{user.region}" if user and user.region else "/evaluation"


register(N_("Evaluation"), _eval_href, action="evaluation.read", order=60)
register(N_("Committee scores"), "/evaluation/committee", action="committee.score", order=61)

# Run and plan statuses, shown translated.
STATUS_LABELS = (N_("draft"), N_("published"), N_("superseded"), N_("proposed"), N_("confirmed"))

FLASH = {
    "run": N_("The evaluation was computed and stored as a draft."),
    "published": N_("The evaluation was published; its benefits and sanctions are in force."),
    "score": N_("Your score was saved."),
    "member": N_("The committee member's government was recorded."),
    "plan": N_("Next year's quotas were proposed."),
    "confirmed": N_("The quota plan was confirmed; next year's ledgers are open."),
}


def _message(exc: DomainError) -> str:
    return exc.ko if current_language.get() == "ko" else exc.en


def _year(value: str | int | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _flash(request: Request) -> str | None:
    key = request.session.pop("evaluation_flash", None) if "session" in request.scope else None
    return FLASH.get(key) if key else None


def _redirect(request: Request, url: str, flash: str) -> RedirectResponse:
    if "session" in request.scope:
        request.session["evaluation_flash"] = flash
    return RedirectResponse(url, status_code=303)


# --------------------------------------------------------------------------- results


def _manage_context(session, year: int | None) -> dict:

    members = list(session.scalars(select(User).where(User.role == "committee_member").order_by(User.username)))
    affiliations = {m.id: service.member_region(session=session, user_id=m.id) for m in members}
    plans = planning.plans(session=session)
    return {
        "runs": service.runs(session=session)[:20],
        "members": members,
        "affiliations": affiliations,
        "plans": [{"plan": p, "rows": planning.plan_rows(p)} for p in plans[:5]],
    }


@router.get("/evaluation")
def results_page(request: Request, year: str = "", user: Actor = Depends(require("evaluation.read"))):
    """The published evaluation as the report shows it; a regional official goes to their region."""
    if grant(user, "evaluation.read") != ALL:  # where a reader lands (navigation), not what they may read
        return RedirectResponse(f"/evaluation/regions/{user.region}", status_code=303)
    return render(request, "evaluation_results.html", _results_context(request, user, year))


def _results_context(request: Request, user: Actor, year: str | int | None) -> dict:
    lang = current_language.get()
    context: dict = {"flash": _flash(request), "error": None, "year": _year(year)}
    with session_scope(engine=request.app.state.engine) as session:
        run = service.published_run(session=session, year=_year(year))
        if run is not None:
            body, regions = _report_body(run, lang)
            names = region_names(lang)
            context.update(
                run=run,
                body=body,
                report_css=Markup(report_css()),
                region_links=[(code, names.get(code, code)) for code in regions],
            )
        else:
            context.update(run=None)
        if can(user, "evaluation.publish"):  # whether to show the run, publish and member forms
            context.update(manage=True, **_manage_context(session, _year(year)))
    context["can_quota"] = can(user, "quotas.adjust")  # whether to show the quota-plan forms
    context["region_options"] = list(region_names(lang).items())
    context["default_year"] = run.year if run is not None else _default_year()
    return context


_BODIES: OrderedDict[tuple, tuple[Markup, list[str]]] = OrderedDict()
_BODIES_KEPT = 8
_BODIES_LOCK = threading.Lock()


def _report_body(run, lang: str) -> tuple[Markup, list[str]]:
    """The published report's body and its regions, rendered once per run, result and language.

    A published run's result never changes (its `result_sha256` fingerprints it), so the page
    keeps the rendered body instead of parsing the result, rebuilding the report's context and
    rendering ~200 KB of HTML on every request (~0.3 s)."""
    key = (run.id, run.result_sha256, lang)
    with _BODIES_LOCK:
        if key in _BODIES:
            _BODIES.move_to_end(key)
            return _BODIES[key]
    result = service.result_of(run)
    body = Markup(render_body(build_context(result, service.framework_of(result), lang)))
    value = (body, [e["region"] for e in result["regions"]])
    with _BODIES_LOCK:
        _BODIES[key] = value
        while len(_BODIES) > _BODIES_KEPT:
            _BODIES.popitem(last=False)
    return value


def _default_year() -> int:

    return dt.date.today().year - 1


# The management forms' fields: label, and the element the error summary links to.
POST_LABELS = {
    "year": N_("Evaluation year"),
    "draws": N_("Sensitivity draws (empty: the framework's)"),
    "reason": N_("Reason"),
    "region": N_("Affiliation"),
    "ceiling": N_("National ceiling"),
    "method": N_("Method"),
    "minimum": N_("Minimum places per region"),
}


def _post_error(request: Request, user: Actor, exc: DomainError, *, form: str, ids: dict, values: dict):
    """The evaluation page again with the refusal: the summary linking to the field (or to the
    form `form`), the message beside it, what was typed kept, the refusal's status."""
    errors = forms.labelled(forms.errors_from(exc, labels=POST_LABELS, ids=ids, form_id=form), fields=POST_LABELS)
    context = _results_context(request, user, values.get("year") if form in ("run-form", "plan-form") else None)
    context.update(errors=errors, posted={"form": form, **values})
    return render(request, "evaluation_results.html", context, status_code=errors.status)


def _whole(values: dict, name: str, *, required: bool = True) -> int | None:
    """A whole number typed in a management form (a refusal beside its field, not a bare 422)."""
    text = str(values.get(name) or "").strip()
    if not text and not required:
        return None
    if not text.lstrip("-").isdigit():
        raise Invalid(code="invalid_number", ko="정수로 입력해 주세요", en="must be a whole number", field=name)
    return int(text)


@router.post("/evaluation/runs")
async def run_form(request: Request, user: Actor = Depends(require("evaluation.publish"))):
    values = await forms.values(request)
    try:  # a job: the page that follows it links back to the draft (jobs.pages)
        year, draws = _whole(values, "year"), _whole(values, "draws", required=False)
        job = launch(request, actor=user, kind="evaluation_run", params={"year": year, "draws": draws})
    except DomainError as exc:
        ids = {"year": "run-year", "draws": "run-draws"}
        return _post_error(request, user, exc, form="run-form", ids=ids, values=values)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/evaluation/reports")
def report_form(
    request: Request,
    year: int = Form(...),
    format: str = Form("pdf"),
    lang: str = Form("ko"),
    user: Actor = Depends(require("evaluation.publish")),
):
    """The report is rendered by a job; its page links to the file when it is ready."""
    if format not in ("pdf", "xlsx", "html", "json") or lang not in ("ko", "en"):
        raise Invalid(code="bad_report", ko="보고서 형식이 올바르지 않습니다", en="unknown report format or language")
    try:
        with session_scope(engine=request.app.state.engine) as session:
            year = service.require_published(session=session, year=year).year
        job = launch(
            request, actor=user, kind="evaluation_report", params={"year": year, "format": format, "lang": lang}
        )
    except DomainError as exc:
        return _post_error(request, user, exc, form="report-form", ids={}, values={})
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/evaluation/runs/publish")
def publish_form(
    request: Request,
    run_id: int = Form(...),
    reason: str = Form(""),
    user: Actor = Depends(require("evaluation.publish")),
):
    try:
        with session_scope(engine=request.app.state.engine) as session:
            run = flows.publish_evaluation(session=session, run_id=run_id, actor=user, reason=reason)
            year = run.year
    except DomainError as exc:
        ids = {"reason": f"reason-{run_id}"}
        values = {"run_id": str(run_id), "reason": reason}
        return _post_error(request, user, exc, form=f"publish-{run_id}", ids=ids, values=values)
    return _redirect(request, f"/evaluation?year={year}", "published")


@router.post("/evaluation/members")
def member_form(
    request: Request,
    user_id: int = Form(...),
    region: str = Form(""),
    affiliation: str = Form(""),
    user: Actor = Depends(require("evaluation.publish")),
):
    try:
        with session_scope(engine=request.app.state.engine) as session:
            service.set_member(session=session, actor=user, user_id=user_id, region=region, affiliation=affiliation)
    except DomainError as exc:
        ids = {"region": f"member-{user_id}"}
        values = {"user_id": str(user_id), "region": region}
        return _post_error(request, user, exc, form=f"member-form-{user_id}", ids=ids, values=values)
    return _redirect(request, "/evaluation#members", "member")


@router.post("/evaluation/quota-plans")
async def plan_form(request: Request, user: Actor = Depends(require("quotas.adjust"))):
    values = await forms.values(request)
    method = values.get("method") or "hamilton"
    try:
        year, ceiling = _whole(values, "year"), _whole(values, "ceiling")
        minimum = _whole(values, "minimum", required=False) or 0
        if method not in METHODS:
            raise Invalid(
                code="invalid", ko="배분 방식이 올바르지 않습니다", en=f"unknown method {method!r}", field="method"
            )
        with session_scope(engine=request.app.state.engine) as session:
            planning.propose_quotas(
                session=session, year=year, ceiling=ceiling, method=method, minimum=minimum, actor=user
            )
    except DomainError as exc:
        ids = {name: f"plan-{name}" for name in ("year", "ceiling", "method", "minimum")}
        return _post_error(request, user, exc, form="plan-form", ids=ids, values=values)
    return _redirect(request, "/evaluation#quotas", "plan")


@router.post("/evaluation/quota-plans/confirm")
def confirm_form(request: Request, plan_id: int = Form(...), user: Actor = Depends(require("quotas.adjust"))):
    try:
        with session_scope(engine=request.app.state.engine) as session:
            planning.confirm_quotas(session=session, plan_id=plan_id, actor=user)
    except DomainError as exc:
        return _post_error(request, user, exc, form=f"confirm-{plan_id}", ids={}, values={})
    return _redirect(request, "/evaluation#quotas", "confirmed")


# --------------------------------------------------------------------------- one region


@router.get("/evaluation/regions/{code}")
def region_page(request: Request, code: str, year: str = "", user: Actor = Depends(require("evaluation.read"))):
    """One region's result with its what-if form; changed values arrive as query parameters."""
    lang = current_language.get()
    names = region_names(lang)
    context: dict = {"code": code, "name": names.get(code, code), "names": names, "view": None, "whatif": None}
    with session_scope(engine=request.app.state.engine) as session:
        run = service.region_publication(session=session, actor=user, region=code, year=_year(year))
        if run is None:
            return render(request, "evaluation_region.html", context)
        result = service.result_of(run)
        framework = service.framework_of(result)
        try:
            view = service.region_view(session=session, actor=user, region=code, year=run.year)
        except DomainError:
            view = None
        intervals = {e["region"]: e.get("rank_interval") for e in result["regions"]}
        ranking = [
            {
                **e,
                "rank_interval": intervals.get(e["region"]),
                "outside": _outside(e["rank"], intervals.get(e["region"])),
            }
            for e in service.public_summary(result)
        ]
        context.update(view=view, year=run.year, ranking=ranking)
        context["indicators"] = [
            {"id": ind.id, "label": ind.label_in(lang), "weight": ind.weight, "direction": ind.direction,
             "method": ind.normalise.method}
            for ind in framework.indicators
        ]  # fmt: skip
        for i, ind in zip(context["indicators"], framework.indicators, strict=True):
            i["percent"], i["bounds"] = _unit(ind)
        changes, typed, items = {}, {}, []
        for i in context["indicators"]:
            text = request.query_params.get(f"set_{i['id']}", "").strip()
            if not text:
                continue
            typed[i["id"]] = text
            low, high = i["bounds"]
            try:
                value = float(text.replace(",", "").rstrip("%").strip())
                if not math.isfinite(value):
                    raise ValueError
            except ValueError:
                items.append(
                    _field_error(i, ko=f"{i['label']}은(는) 숫자로 입력해 주세요", en=f"{i['label']} must be a number")
                )
                continue
            if (low is not None and value < low) or (high is not None and value > high):
                unit = "%" if i["percent"] else ""
                lo, hi = forms.number_text(low), forms.number_text(high)
                items.append(
                    _field_error(
                        i,
                        ko=f"{i['label']}은(는) {lo}{unit}에서 {hi}{unit} 사이여야 합니다",
                        en=f"{i['label']} must be between {lo}{unit} and {hi}{unit}",
                    )
                )
                continue
            changes[i["id"]] = value / 100 if i["percent"] else value
        errors = forms.FormErrors(items=items) if items else None
        context.update(changes=typed, form_errors=errors)
        if changes and view is not None and errors is None:
            try:
                context["whatif"] = service.what_if(
                    session=session, actor=user, region=code, changes=changes, year=run.year
                )
            except DomainError as exc:  # about the changes together: said at the top of the form
                ids = {"changes": "what-if-form"}
                context["form_errors"] = forms.errors_from(exc, ids=ids, form_id="what-if-form")
            else:
                context["ranking"] = _ranking_with(context["ranking"], code, context["whatif"].get("what_if"))
    if view is not None:
        context.update(_region_charts(view, context["indicators"], context["name"]))

        context["groups_view"] = region_groups(view, framework, lang)  # None for a flat framework
    return render(request, "evaluation_region.html", context)


def _unit(ind) -> tuple[bool, tuple[float | None, float | None]]:
    """Whether an indicator is entered in percent (a computed rate or share, stored as a fraction),
    and the bounds of what may be typed (percent 0–100; goalposts their range; else none)."""
    if ind.source == "computed" and (ind.id.endswith("_rate") or ind.id.endswith("_share")):
        return True, (0.0, 100.0)
    if ind.normalise.method == "goalposts" or ind.source == "committee":
        low, high = getattr(ind.normalise, "low", None), getattr(ind.normalise, "high", None)
        return False, (0.0 if low is None else low, 100.0 if high is None else high)
    return False, (None, None)


def _field_error(indicator: dict, *, ko: str, en: str) -> forms.FormError:
    lang = current_language.get()
    return forms.FormError(
        field=f"set_{indicator['id']}",
        id=f"set-{indicator['id']}",
        label=indicator["label"],
        message=ko if lang == "ko" else en,
    )


def _outside(rank: int, interval: list[int] | None) -> bool:
    """Whether a published rank lies outside its own 5–95 % interval (which the alternatives give)."""
    return bool(interval) and not interval[0] <= rank <= interval[1]


def _ranking_with(ranking: list[dict], code: str, entry: dict | None) -> list[dict]:
    """The ranking with the region at its what-if score and rank, so the table says what the result says.

    Every other region keeps its published score; those the region passes move down one place."""
    if not entry or entry.get("excluded"):
        return ranking
    others = [dict(e) for e in ranking if e["region"] != code]
    for e in others:
        e["rank"] = 1 + sum(1 for o in others if o["score"] > e["score"]) + (entry["score"] > e["score"])
    mine = next(e for e in ranking if e["region"] == code)
    moved = {**mine, "score": entry["score"], "rank": entry["rank"], "grade": entry["grade"], "what_if": True}
    moved["outside"] = False
    return sorted([*others, moved], key=lambda e: (e["rank"], -e["score"], not e.get("what_if")))


def _region_charts(view: dict, indicators: list[dict], name: str) -> dict:
    """The region's breakdown (each indicator's part against the most it can bring) and rank interval."""

    total = sum(i["weight"] for i in indicators)
    parts = [view["contributions"][i["id"]] for i in indicators]
    breakdown = charts.region_chart(
        parts, [100.0 * i["weight"] / total for i in indicators], missing_text=gettext("missing"), prefix="rb"
    )
    lo, hi = view["rank_interval"]
    ranks = charts.rank_interval_chart(
        [(name, view["rank"], view["median_rank"], lo, hi)],
        view["regions_evaluated"],
        xlabel=gettext("Rank"),
        interval_label=gettext("Rank interval (5th–95th percentile)"),
        median_label=gettext("Median rank"),
        rank_label=gettext("Published rank"),
        prefix="ri",
    )
    return {"breakdown_chart": Markup(breakdown), "rank_chart": Markup(ranks)}


# --------------------------------------------------------------------------- committee


def _committee_context(request: Request, user: Actor, year: int) -> dict:
    framework = service.framework_for()
    lang = current_language.get()
    indicator = service.committee_indicators(framework)[0] if service.committee_indicators(framework) else None
    with session_scope(engine=request.app.state.engine) as session:
        scores = service.member_scores(session=session, year=year, member_id=user.id or 0)
        recused_region = service.member_region(session=session, user_id=user.id or 0)
        published = service.published_run(session=session, year=year) is not None
        participants = service.participants(session=session, year=year)
    names = region_names(lang)
    rows = []
    for code in participants:
        mine = scores.get((indicator, code)) if indicator else None
        rows.append(
            {
                "code": code,
                "name": names.get(code, code),
                "score": mine.score if mine else None,
                "justification": mine.justification if mine else "",
                "recused": (mine.recused if mine else False) or code == recused_region,
                "automatic": code == recused_region,
            }
        )
    label = next((i.label_in(lang) for i in framework.indicators if i.id == indicator), indicator)
    return {"year": year, "rows": rows, "indicator": indicator, "indicator_label": label, "published": published}


@router.get("/evaluation/committee")
def committee_page(request: Request, year: str = "", user: Actor = Depends(require("committee.score"))):
    target = _year(year) or service.framework_for().year
    context = _committee_context(request, user, target)
    context.update(flash=_flash(request), errors=None, error_region=None, form={})
    return render(request, "evaluation_committee.html", context)


COMMITTEE_LABELS = {"score": N_("Score (0–100)"), "justification": N_("Justification")}


def _committee_errors(exc: DomainError, region: str) -> forms.FormErrors:
    """The refusal of one region's score form: beside its score or justification, else about the form."""
    ids = {"score": f"score-{region}", "justification": f"just-{region}", "region": f"form-{region}"}
    found = forms.errors_from(exc, labels=COMMITTEE_LABELS, ids=ids, form_id=f"form-{region}")
    return forms.labelled(found, fields=COMMITTEE_LABELS)


@router.post("/evaluation/committee")
def committee_form(
    request: Request,
    year: int = Form(...),
    region: str = Form(...),
    score: str = Form(""),
    justification: str = Form(""),
    recuse: str = Form(""),
    user: Actor = Depends(require("committee.score")),
):
    try:
        value = float(score) if score.strip() else None
    except ValueError:
        value = math.nan
    try:
        with session_scope(engine=request.app.state.engine) as session:
            service.enter_score(
                session=session,
                actor=user,
                year=year,
                region=region,
                score=value,
                justification=justification,
                recuse=bool(recuse),
            )
    except DomainError as exc:
        errors = _committee_errors(exc, region)
        context = _committee_context(request, user, year)
        form = {"score": score, "justification": justification, "recuse": recuse}
        context.update(flash=None, errors=errors, error_region=region, form=form)
        return render(request, "evaluation_committee.html", context, status_code=errors.status)
    return _redirect(request, f"/evaluation/committee?year={year}#region-{region}", "score")
