"""Surveys: response rates and what the fatigue rules held back, proactive campaigns, gaming warnings."""

import re
from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from itxm.analytics.periods import Period, buckets, day_start
from itxm.surveys import campaigns as campaign_specs
from itxm.surveys import services as surveys
from itxm.surveys.models import (
    PROACTIVE_KINDS,
    CampaignStatus,
    FatigueKind,
    HeldBackReason,
    OutboxStatus,
    SurveyKind,
)
from itxm.web import charts
from itxm.web.pages import is_shared, page_context, render_page
from itxm.web.tables import Column, Table
from itxm.web.templatetags.itxm_web import cell

TREND_WEEKS_UP_TO = 120  # days: a longer period shows its trend per month
AGENT_ROWS = 30  # without a group filter, the agents with the most delivered surveys


def _sub_nav(context: dict, current: str) -> dict:
    return context | {"current": current, "may_create": surveys.may_manage_campaigns(context["scope"])}


# --- the overview -------------------------------------------------------------------------------


def overview(request):
    context = _sub_nav(page_context(request), "surveys")
    scope, found = context["scope"], context["filters"]
    start, end = day_start(found.period.start), day_start(found.period.end)
    size = "week" if found.period.days <= TREND_WEEKS_UP_TO else "month"
    slots = buckets(found.period, size)
    result = surveys.response_overview(
        scope, start, end, found.service, found.group, [(day_start(p.start), day_start(p.end)) for p in slots]
    )
    totals = result.totals
    context |= {"totals": totals, "bucket": size, "narrowed": bool(found.service or found.group)}
    if not totals.invitations and not totals.answers:
        return render_page(request, "web/surveys/overview.html", context | {"empty": True})
    tables = [
        _campaign_rate_table(result.rates["campaign"], found),
        _rate_table("services", _("Response rate per service"), _("Service"), result.rates["service"],
                    lambda r: "?" + found.query(service=r.id)),
        _rate_table("groups", _("Response rate per group"), _("Group"), result.rates["group"],
                    lambda r: "?" + found.query(group=r.id)),
        _agent_table(result.rates["agent"], found.group is not None),
        _held_back_table(result.held_back, totals.invitations),
        _fatigue_rule_table(result.rules, result.held_back),
    ]  # fmt: skip
    if not context["narrowed"] and not scope.is_restricted:
        tables += [_outbox_table(result.outbox), _problem_table(result.problems, scope)]
    context |= {"held_back_share": _share(totals.held_back, totals.invitations),
                "failed_share": _share(totals.failed, totals.invitations - totals.held_back)}  # fmt: skip
    return render_page(request, "web/surveys/overview.html", context, tables, _trend_charts(result.trend, slots, size))


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _trend_charts(trend, slots: list[Period], size: str) -> list[charts.Chart]:
    labels = [p.start.strftime("%Y-%m") if size == "month" else p.start.isoformat() for p in slots]
    rates = [point.rate for point in trend]
    outcomes = charts.bar(
        "invitation_trend", _("Invitations and what became of them"), labels,
        [(_("Answered"), [p.answered for p in trend]),
         (_("Delivered, not answered"), [p.delivered - p.answered for p in trend]),
         (_("Held back"), [p.held_back for p in trend]),
         (_("Failed or bounced"), [p.failed for p in trend])],
        stacked=True,
        summary=_("Invitations made per period: answered, delivered but not answered, held back, failed."),
    )  # fmt: skip
    outcomes.option["color"] = [charts.GOOD, "#74c0fc", "#e67700", charts.BAD]
    return [
        charts.line(
            "response_trend", _("Response rate (%)"), labels, [(_("Response rate %"), rates)], y_min=0,
            summary=_("Share of delivered survey e-mails that were answered, per period."),
        ),
        outcomes,
    ]  # fmt: skip


def _rate_columns(first: str, link: str | None = None) -> list[Column]:
    return [
        Column("name", first, link=link),
        Column("invitations", _("Invitations"), "int", help=_("Made in the period, held back ones included")),
        Column("held_back", _("Held back"), "int"),
        Column("delivered", _("Delivered"), "int"),
        Column("answered", _("Answered"), "int"),
        Column("rate", _("Response rate %"), "percent", help=_("Answered of delivered")),
        Column("failed", _("Failed or bounced"), "int"),
    ]


def _rate_row(rate, link: str | None = None) -> dict:
    return {"name": rate.name, "invitations": rate.invitations, "held_back": rate.held_back,
            "delivered": rate.delivered, "answered": rate.answered, "rate": rate.rate, "failed": rate.failed,
            "happiness": rate.happiness, "answers": rate.answers, "link": link}  # fmt: skip


def _rate_table(name: str, title: str, first: str, rates, link=None) -> Table:
    rows = [_rate_row(r, link(r) if link else None) for r in rates]
    return Table(name, title, _rate_columns(first, "link" if link else None), rows,
                 _("No survey invitations in this period and these filters."))  # fmt: skip


def _agent_table(rates, whole_group: bool) -> Table:
    if whole_group:
        return _rate_table("agents", _("Response rate per agent"), _("Agent"), rates)
    busiest = sorted(rates, key=lambda r: (-r.delivered, r.name.casefold()))[:AGENT_ROWS]
    title = _("Response rate per agent: the %(count)s with the most surveys (choose a group to see all its agents)")
    return _rate_table("agents", title % {"count": AGENT_ROWS}, _("Agent"), busiest)


def _campaign_rate_table(rates, filters) -> Table:
    rows = [_rate_row(r, reverse("campaign", args=[r.id])) for r in rates]
    columns = _rate_columns(_("Campaign"), "link") + [
        Column("answers", _("All answers"), "int", help=_("Through e-mail and the shareable link")),
        Column("happiness", _("Happiness"), "signed"),
    ]
    if filters.service or filters.group:
        empty = _("Campaigns are not about one service or group: clear the service and group filters to see them.")
    else:
        empty = _("No campaign invited anyone in this period. Campaigns are listed under Campaigns.")
    return Table("campaigns", _("Response rate per campaign"), columns, rows, empty)


def _fatigue_kind_of(kind: str) -> str:
    return kind if kind in (SurveyKind.INCIDENT, SurveyKind.REQUEST) else FatigueKind.PROACTIVE


def _held_back_table(held_back: dict, invitations: int) -> Table:
    kinds = (SurveyKind.INCIDENT, SurveyKind.REQUEST, FatigueKind.PROACTIVE)
    rows = []
    for reason in HeldBackReason:
        counts = {kind: 0 for kind in kinds}
        for (kind, why), n in held_back.items():
            if why == reason:
                counts[_fatigue_kind_of(kind)] += n
        total = sum(counts.values())
        if total:
            rows.append({"reason": str(reason.label), "count": total, "share": _share(total, invitations),
                         **{f"kind_{kind}": n for kind, n in counts.items()}})  # fmt: skip
    return Table(
        "held_back", _("Held back, and why"),
        [Column("reason", _("Reason")), Column("count", _("Invitations held back"), "int"),
         Column("share", _("Share of invitations %"), "percent"),
         Column(f"kind_{SurveyKind.INCIDENT}", str(SurveyKind.INCIDENT.label), "int"),
         Column(f"kind_{SurveyKind.REQUEST}", str(SurveyKind.REQUEST.label), "int"),
         Column(f"kind_{FatigueKind.PROACTIVE}", str(FatigueKind.PROACTIVE.label), "int")],
        rows, _("Nobody was held back in this period: every invitation went out."),
    )  # fmt: skip


def _fatigue_rule_table(rules, held_back: dict) -> Table:
    tired = {}
    for (kind, reason), n in held_back.items():
        if reason == HeldBackReason.FATIGUE:
            tired[_fatigue_kind_of(kind)] = tired.get(_fatigue_kind_of(kind), 0) + n
    rows = [
        {"kind": rule.get_kind_display(), "days": rule.days, "enabled": _("yes") if rule.enabled else _("no"),
         "held_back": _rule_effect(rule, tired)}
        for rule in rules
    ]  # fmt: skip
    return Table(
        "fatigue_rules", _("Fatigue rules and their effect"),
        [Column("kind", _("Applies to")), Column("days", _("At most one survey per (days)"), "int"),
         Column("enabled", _("Enabled")),
         Column("held_back", _("Held back as invited recently"), "int",
                help=_("Invitations of the surveys this rule covers held back in the period; a survey covered by "
                       "two rules counts under both; a disabled rule holds nothing back"))],
        rows, _("No fatigue rules: people may get a survey after every ticket. Add rules under Settings."),
    )  # fmt: skip


def _rule_effect(rule, tired: dict) -> int | None:
    """Invitations held back as invited recently among the surveys a rule covers; none for a disabled rule."""
    if not rule.enabled:
        return None
    return sum(tired.values()) if rule.kind == FatigueKind.ANY else tired.get(rule.kind, 0)


def _outbox_table(outbox: dict[str, int]) -> Table:
    rows = [{"status": str(status.label), "count": outbox[status]} for status in OutboxStatus if outbox.get(status)]
    return Table(
        "outbox", _("Survey e-mails"),
        [Column("status", _("Status")), Column("count", _("E-mails"), "int")],
        rows, _("No survey e-mail was written in this period."),
    )  # fmt: skip


def _problem_table(problems: list[dict], scope) -> Table:
    show_errors = surveys.may_read_people(scope)
    rows = [
        {"when": p["created_at"], "status": str(OutboxStatus(p["status"]).label), "attempts": p["attempts"],
         "about": p["invitation__ticket__number"] or p["invitation__run__campaign__name"] or "",
         "error": p["last_error"] if show_errors else ""}
        for p in problems
    ]  # fmt: skip
    columns = [Column("when", _("Written")), Column("about", _("About")), Column("status", _("Status")),
               Column("attempts", _("Attempts"), "int")]  # fmt: skip
    if show_errors:
        columns.append(Column("error", _("What the mail server said")))
    return Table("bounces", _("Bounced and failed e-mails"), columns, rows,
                 _("No survey e-mail bounced or failed in this period."))  # fmt: skip


# --- campaigns ----------------------------------------------------------------------------------


def _audience(campaign) -> str:
    if campaign.everyone:
        return _("Everyone")
    parts = []
    if names := [d.name for d in campaign.departments.all()]:
        parts.append(_("Departments: %(names)s") % {"names": ", ".join(sorted(names))})
    if names := [loc.name for loc in campaign.locations.all()]:
        parts.append(_("Locations: %(names)s") % {"names": ", ".join(sorted(names))})
    if campaign.countries:
        parts.append(_("Countries: %(names)s") % {"names": ", ".join(campaign.countries)})
    if campaign.device_models:
        parts.append(_("Device models: %(names)s") % {"names": ", ".join(campaign.device_models)})
    return "; ".join(parts)


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") if moment else ""


def _schedule(campaign) -> str:
    first = _when(campaign.starts_at)
    if not campaign.repeat_days:
        return _("Once, %(first)s") % {"first": first}
    return ngettext("Every day from %(first)s", "Every %(days)s days from %(first)s", campaign.repeat_days) % {
        "days": campaign.repeat_days,
        "first": first,
    }


def _delivery(campaign) -> str:
    ways = [str(w) for w, on in ((_("e-mail"), campaign.by_email), (_("shareable link"), campaign.by_link)) if on]
    return ", ".join(ways)


def campaign_list(request):
    context = _sub_nav(page_context(request), "campaigns")
    rows = []
    for summary in surveys.campaign_summaries(context["scope"]):
        c, r = summary.campaign, summary.results
        rows.append({
            "name": c.name, "link": reverse("campaign", args=[c.pk]), "kind": c.get_kind_display(),
            "audience": _audience(c), "schedule": _schedule(c), "status": c.get_status_display(),
            "runs": summary.runs, "invited": r.invitations - r.held_back, "held_back": r.held_back,
            "answered": r.answered, "rate": r.rate, "link_answers": r.answers - r.answered,
            "happiness": r.happiness,
        })  # fmt: skip
    if context["scope"].is_restricted:
        empty = _("Campaigns belong to the whole organisation: they are not shown to supplier and service-owner "
                  "accounts.")  # fmt: skip
    else:
        empty = _("No campaigns yet. A campaign asks people about their devices, applications, remote work or IT "
                  "overall, on a schedule.")  # fmt: skip
    table = Table(
        "campaigns", _("Campaigns"),
        [Column("name", _("Campaign"), link="link"), Column("kind", _("Area")), Column("audience", _("Audience")),
         Column("schedule", _("Schedule")), Column("status", _("Status")), Column("runs", _("Runs"), "int"),
         Column("invited", _("Invited"), "int"), Column("held_back", _("Held back"), "int"),
         Column("answered", _("Answered"), "int"), Column("rate", _("Response rate %"), "percent"),
         Column("link_answers", _("Answers through the link"), "int"),
         Column("happiness", _("Happiness"), "signed", help=_("% of 9–10 answers minus % of 0–6 answers"))],
        rows, empty,
    )  # fmt: skip
    return render_page(request, "web/surveys/campaigns.html", context, [table])


def campaign(request, campaign_id: int):
    context = _sub_nav(page_context(request), "campaigns")
    scope = context["scope"]
    try:
        # Whoever has a survey link can answer: never on a page shared read-only.
        detail = surveys.campaign_detail(scope, campaign_id, with_links=not is_shared(request))
    except ObjectDoesNotExist:
        raise Http404("no such campaign") from None
    c, totals = detail.summary.campaign, detail.summary.results
    runs = [
        {"scheduled": timezone.localtime(run.run.scheduled_for), "audience": run.run.audience,
         "not_sampled": run.run.not_sampled, "held_back": _held_back_text(run.run.held_back),
         "invited": run.run.invited, "delivered": run.results.delivered, "answered": run.results.answered,
         "rate": run.results.rate, "link_answers": run.results.answers - run.results.answered,
         "happiness": run.results.happiness, "closes": _when(run.run.closes_at)}
        for run in detail.runs
    ]  # fmt: skip
    table = Table(
        "runs", _("Runs"),
        [Column("scheduled", _("Scheduled for")), Column("audience", _("Audience"), "int"),
         Column("not_sampled", _("Left out by sampling"), "int"), Column("held_back", _("Held back")),
         Column("invited", _("Invited"), "int"), Column("delivered", _("Delivered"), "int"),
         Column("answered", _("Answered"), "int"), Column("rate", _("Response rate %"), "percent"),
         Column("link_answers", _("Answers through the link"), "int"), Column("happiness", _("Happiness"), "signed"),
         Column("closes", _("Closes"))],
        runs, _no_runs(c),
    )  # fmt: skip
    chart_list = []
    if detail.scores:
        chart_list.append(charts.bar(
            "scores", _("Scores given"), [str(s) for s in range(11)],
            [(_("Answers"), [detail.scores.get(s, 0) for s in range(11)])],
            summary=_("How many answers gave each score from 0 to 10."),
        ))  # fmt: skip
    if len(detail.runs) > 1:
        ordered = detail.runs[::-1]
        chart_list.append(charts.line(
            "run_rates", _("Response rate per run (%)"),
            [timezone.localtime(r.run.scheduled_for).date().isoformat() for r in ordered],
            [(_("Response rate %"), [r.results.rate for r in ordered])], y_min=0,
            summary=_("Share of delivered e-mails answered in each run."),
        ))  # fmt: skip
    context |= {
        "campaign": c, "totals": totals, "invited": totals.invitations - totals.held_back,
        "runs_count": detail.summary.runs, "audience": _audience(c),
        "schedule": _schedule(c), "delivery": _delivery(c), "next_run": _when(c.next_run_at),
        "sampling": round(100 * c.sampling_rate, 1),
        "links": [{"scheduled": _when(r.run.scheduled_for), "closes": _when(r.run.closes_at),
                   "url": settings.BASE_URL + r.link} for r in detail.runs if r.link],
        "enough_answers": totals.answers >= settings.ANALYTICS_MIN_ANSWERS,
        "min_answers": settings.ANALYTICS_MIN_ANSWERS,
    }  # fmt: skip
    return render_page(request, "web/surveys/campaign.html", context, [table], chart_list)


def _no_runs(campaign) -> str:
    if campaign.status == CampaignStatus.ACTIVE:
        return _("No run yet: the first run is due %(first)s.") % {"first": _when(campaign.next_run_at)}
    if campaign.status == CampaignStatus.DRAFT:
        return _("No run yet: a draft does not run until it is made active.")
    return _("This campaign never ran.")


def _held_back_text(held_back: dict) -> str:
    labels = dict(HeldBackReason.choices)
    return ", ".join(f"{labels.get(reason, reason)}: {n}" for reason, n in sorted(held_back.items()) if n)


# --- creating a campaign ------------------------------------------------------------------------

COUNTRY = re.compile(r"^[A-Z]{2}$")


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Area"), choices=[(k.value, k.label) for k in PROACTIVE_KINDS])
    audience = forms.ChoiceField(
        label=gettext_lazy("Who is asked"),
        choices=[("everyone", gettext_lazy("Everyone")), ("filtered", gettext_lazy("People matching the filters"))],
        widget=forms.RadioSelect,
        initial="everyone",
    )
    departments = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Departments"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    locations = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Locations"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    countries = forms.CharField(
        label=gettext_lazy("Countries"), required=False, max_length=300,
        help_text=gettext_lazy("Two-letter codes separated by commas, e.g. TR, DE"),
    )  # fmt: skip
    device_models = forms.MultipleChoiceField(
        label=gettext_lazy("Device models"), required=False, widget=forms.CheckboxSelectMultiple
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("First run"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("A moment in the past starts the campaign when the worker next looks."),
    )
    repeat_days = forms.IntegerField(
        label=gettext_lazy("Repeat every (days)"), required=False, min_value=1, max_value=366,
        help_text=gettext_lazy("Empty: the campaign runs once."),
    )  # fmt: skip
    sampling_percent = forms.IntegerField(
        label=gettext_lazy("Share of the audience asked in each run (%)"), min_value=1, max_value=100, initial=100
    )
    by_email = forms.BooleanField(label=gettext_lazy("Send by e-mail"), required=False, initial=True)
    by_link = forms.BooleanField(
        label=gettext_lazy("Shareable link"), required=False,
        help_text=gettext_lazy("A link anyone who has it can answer through, e.g. on the intranet."),
    )  # fmt: skip
    active = forms.BooleanField(
        label=gettext_lazy("Run on schedule"), required=False, initial=True,
        help_text=gettext_lazy("Unticked: saved as a draft that does not run."),
    )  # fmt: skip

    FILTERS = ("departments", "locations", "countries", "device_models")

    def __init__(self, *args, choices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].choices = choices["departments"]
        self.fields["locations"].choices = choices["locations"]
        self.fields["device_models"].choices = [(m, m) for m in choices["device_models"]]
        if not choices["device_models"]:
            del self.fields["device_models"]
        if choices["countries"]:
            known = ", ".join(choices["countries"])
            self.fields["countries"].help_text = _(
                "Two-letter codes separated by commas; your people are in %(codes)s."
            ) % {"codes": known}

    def clean_countries(self) -> list[str]:
        codes = [code.upper() for code in re.split(r"[\s,;]+", self.cleaned_data["countries"]) if code]
        wrong = [code for code in codes if not COUNTRY.match(code)]
        if wrong:
            raise forms.ValidationError(
                _("Not a two-letter country code: %(codes)s") % {"codes": ", ".join(wrong)}, code="country"
            )
        return list(dict.fromkeys(codes))

    def clean(self):
        data = super().clean()
        chosen = any(data.get(name) for name in self.FILTERS)
        if data.get("audience") == "filtered" and not chosen and not self.has_error("countries"):
            self.add_error("audience", _("Choose at least one department, location, country or device model."))
        if data.get("audience") == "everyone" and chosen:
            self.add_error("audience", _("To ask only some people, choose “People matching the filters”; "
                                         "to ask everyone, clear the filters."))  # fmt: skip
        if not data.get("by_email") and not data.get("by_link"):
            self.add_error("by_email", _("Deliver by e-mail, by shareable link, or both."))
        return data

    def spec(self) -> campaign_specs.CampaignSpec:
        data = self.cleaned_data
        return campaign_specs.CampaignSpec(
            name=data["name"].strip(), kind=data["kind"], starts_at=data["starts_at"],
            everyone=data["audience"] == "everyone", department_ids=tuple(data["departments"]),
            location_ids=tuple(data["locations"]), countries=tuple(data["countries"]),
            device_models=tuple(data.get("device_models") or ()), repeat_days=data["repeat_days"],
            sampling_rate=data["sampling_percent"] / 100, by_email=data["by_email"], by_link=data["by_link"],
            active=data["active"],
        )  # fmt: skip


def campaign_new(request):
    context = _sub_nav(page_context(request), "campaign_new")
    scope = context["scope"]
    if is_shared(request):
        raise Http404("not through a shared link")
    if not surveys.may_manage_campaigns(scope):
        raise PermissionDenied
    choices = surveys.campaign_audience_choices(scope)
    if request.method == "POST":
        form = CampaignForm(request.POST, choices=choices)
        if form.is_valid():
            try:
                created = surveys.create_campaign(scope, form.spec())
            except campaign_specs.InvalidCampaign as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The campaign “%(name)s” was created.") % {"name": created.name})
                return redirect("campaign", campaign_id=created.pk)
    else:
        tomorrow = timezone.localdate() + timedelta(days=1)
        form = CampaignForm(initial={"starts_at": datetime.combine(tomorrow, time(9))}, choices=choices)
    return render(request, "web/surveys/campaign_new.html", context | {"form": form})


# --- gaming warnings ----------------------------------------------------------------------------

# What each signal saw, in the reader's language, from its evidence (gaming.py gives the figures).
SIGNALS = {
    "response_rate_spike": (
        gettext_lazy("Far more surveys answered than expected"),
        gettext_lazy("%(answered)s of %(delivered)s surveys answered (%(rate)s), against %(expected)s expected: "
                     "its own earlier rate %(own)s, everyone else %(peers)s."),
        gettext_lazy("How are callers asked to answer? A rise this sudden often means someone asks them in person, "
                     "or answers for them."),
    ),
    "fast_answers": (
        gettext_lazy("Answers right after the resolution"),
        gettext_lazy("%(fast)s of %(answers)s answers (%(share)s) came within %(seconds)s seconds of the "
                     "resolution, half of them within %(median)s seconds; everyone else: %(peers)s."),
        gettext_lazy("People rarely open a survey e-mail that quickly. Were they asked to answer while still on the "
                     "phone or at the desk?"),
    ),
    "same_network": (
        gettext_lazy("Many callers answered from one address"),
        gettext_lazy("%(answers)s answers from %(callers)s different callers came from one network address, "
                     "%(ip)s; %(share)s of the answers from that address are about these tickets."),
        gettext_lazy("An office behind one proxy answers for everyone alike; one desk answering for many callers is "
                     "worth a look."),
    ),
    "tens_jump": (
        gettext_lazy("Far more 10s than expected"),
        gettext_lazy("%(tens)s of %(answers)s answers are 10s (%(share)s), against %(expected)s expected: "
                     "its own earlier share %(own)s, everyone else %(peers)s."),
        gettext_lazy("Read a few of the example tickets: do the journeys match the scores?"),
    ),
    "score_disagrees_with_journey": (
        gettext_lazy("High scores for bad journeys"),
        gettext_lazy("%(high)s of %(bad)s answered tickets that were reopened or cost half a day or more got a 9 "
                     "or 10 (%(share)s); everyone else's callers: %(peers)s."),
        gettext_lazy("People rarely give top scores after a reopened ticket or a lost half day. Ask the callers of "
                     "the example tickets."),
    ),
}  # fmt: skip


def _pct(value) -> str:
    return cell(value, "percent")


def _expected(*values) -> str:
    known = [v for v in values if v is not None]
    return _pct(max(known)) if known else cell(None)


def _figures(signal: str, e: dict) -> dict:
    """The placeholders of a signal's sentence, localised, from its evidence."""
    n = lambda key: cell(e.get(key), "int")  # noqa: E731
    if signal == "response_rate_spike":
        return {"answered": n("answered"), "delivered": n("delivered"), "rate": _pct(e.get("rate_pct")),
                "expected": _expected(e.get("peers_rate_pct"), e.get("own_baseline_rate_pct")),
                "own": _pct(e.get("own_baseline_rate_pct")), "peers": _pct(e.get("peers_rate_pct"))}  # fmt: skip
    if signal == "fast_answers":
        return {"fast": n("fast_answers"), "answers": n("answers"), "share": _pct(e.get("fast_share_pct")),
                "seconds": n("threshold_seconds"), "median": cell(e.get("median_seconds_fast"), "int"),
                "peers": _pct(e.get("peers_fast_share_pct"))}  # fmt: skip
    if signal == "same_network":
        return {"answers": n("answers_from_ip"), "callers": n("different_callers"), "ip": e.get("client_ip", ""),
                "share": _pct(e.get("share_of_ip_answers_about_subject_pct"))}  # fmt: skip
    if signal == "tens_jump":
        own, peers = e.get("own_baseline_tens_share_pct"), e.get("peers_tens_share_pct")
        return {"tens": n("tens"), "answers": n("answers"), "share": _pct(e.get("tens_share_pct")),
                "expected": _expected(own, peers), "own": _pct(own), "peers": _pct(peers)}  # fmt: skip
    if signal == "score_disagrees_with_journey":
        return {"high": n("high_scores"), "bad": n("bad_journeys_answered"), "share": _pct(e.get("high_share_pct")),
                "peers": _pct(e.get("peers_high_share_pct"))}  # fmt: skip
    return {}


def _described(warning) -> dict:
    title, seen, look = SIGNALS.get(warning.signal, (warning.signal, "", ""))
    try:
        text = str(seen) % _figures(warning.signal, warning.evidence) if seen else warning.summary
    except (KeyError, TypeError, ValueError):
        text = warning.summary
    return {"signal": warning.signal, "title": str(title), "seen": text, "look": str(look),
            "examples": list(warning.examples)}  # fmt: skip


def gaming(request):
    context = _sub_nav(page_context(request), "gaming")
    scope, found = context["scope"], context["filters"]
    signals = surveys.gaming_signals(scope, day_start(found.period.start), day_start(found.period.end))
    group_names = dict(context["filter_choices"]["groups"])
    subjects, rows = [], []
    for kind, label in (("agent", _("Agent")), ("group", _("Group"))):
        by_subject: dict[int, dict] = {}
        for warning in signals[kind]:
            if found.group is not None and warning.group_id != found.group:
                continue
            described = _described(warning)
            group = group_names.get(warning.group_id, "")
            subject = by_subject.setdefault(warning.subject_id, {
                "kind": kind, "kind_label": label, "name": warning.name, "group": group if kind == "agent" else "",
                "signals": [],
            })  # fmt: skip
            subject["signals"].append(described)
            rows.append({"kind": label, "name": warning.name, "group": group, "signal": described["title"],
                         "seen": described["seen"], "examples": ", ".join(described["examples"])})  # fmt: skip
        subjects += sorted(by_subject.values(), key=lambda s: (-len(s["signals"]), s["name"].casefold()))
    if scope.service_ids is not None:
        empty = _("Gaming warnings are about agents and groups, which are not part of a service's data: a service "
                  "owner's view has none.")  # fmt: skip
    else:
        empty = _("No warnings in this period: no agent or group stands out from its own past and its peers.")
    table = Table(
        "warnings", _("Warnings"),
        [Column("kind", _("About")), Column("name", _("Name")), Column("group", _("Group")),
         Column("signal", _("Signal")), Column("seen", _("What was seen")), Column("examples", _("Example tickets"))],
        rows, empty,
    )  # fmt: skip
    context |= {"subjects": subjects, "empty_text": empty}
    return render_page(request, "web/surveys/gaming.html", context, [table])


urlpatterns = [
    path("surveys/", overview, name="surveys"),
    path("surveys/campaigns/", campaign_list, name="campaigns"),
    path("surveys/campaigns/new/", campaign_new, name="campaign_new"),
    path("surveys/campaigns/<int:campaign_id>/", campaign, name="campaign"),
    path("surveys/gaming/", gaming, name="gaming"),
]
