"""Journeys: the paths tickets take through groups and states (process variants), and the channels
people come through, each with its volume, speed, SLA and experience.

Counts come from the ticket rollups (``TicketRollup``: tickets per day, path or channel, group and
service, with the answers about them), kept by the facts' refresh like the other rollups, so that any
period, group or service is a read of a few thousand rows; with another dimension's member (an API
argument) they are counted in the facts, with the same result. Only the resolution times of the variants
shown are fetched from the facts, for their median and 90th percentile, which cannot be summed: exact over
the period's tickets, or over whole slices of ticket ids when there are more than ``JOURNEY_SAMPLE``.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils.translation import gettext as _

from itxm.analytics import facts, queries, services
from itxm.analytics import metrics as maths
from itxm.analytics.models import SAMPLE_SLICES, SurveyFact, SurveyFactor, TicketFact
from itxm.analytics.periods import Period
from itxm.analytics.remembered import remembered, scope_key
from itxm.org import queries as org
from itxm.org.scopes import Scope
from itxm.tickets.models import Channel, TicketState

PATH_COLUMNS = {"group": "group_path", "state": "state_path"}
# A variant hurts when its happiness is this many points below the period's.
HURT_MARGIN = 10
TOP_SERVICES = 3
TOP_FACTORS = 3
# A service avoids the portal when its portal share is below this part of the overall share.
AVOIDED_RATIO = 0.5
# Beyond this many tickets, the variants' resolution percentiles come from a uniform sample of about as
# many (whole slices of ticket ids); every count is of all the tickets.
JOURNEY_SAMPLE = 50_000
AVOIDED_MIN_TICKETS = 30
# Variants are computed (and stored) this many at a time: every page's choice of how many to show.
KEPT_VARIANTS = 50


@dataclass(frozen=True)
class Variant:
    path: tuple[str, ...]  # step names, for people to read
    codes: tuple[str, ...]  # steps as stored: group external ids, or state values
    label: str  # the names joined with " > "
    tickets: int
    share: float | None  # % of the period's tickets with a path
    median_hours: float | None
    p90_hours: float | None
    mean_reassignments: float | None
    sla_compliance: float | None
    reopen_rate: float | None
    answers: int
    happiness: float | None
    lost_minutes_per_answer: float | None
    hurts: bool
    gap: float | None  # happiness minus the period's overall happiness
    happy_path: bool  # the most frequent variant
    sampled: bool = False  # percentiles from whole slices of ticket ids (more than JOURNEY_SAMPLE tickets)


@dataclass(frozen=True)
class ServiceUse:
    service_id: int | None
    label: str
    code: str
    tickets: int
    share: float | None  # % of the channel's tickets


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    label: str
    tickets: int
    share: float | None  # % of all tickets
    top_services: tuple[ServiceUse, ...]
    answers: int
    happiness: float | None
    lost_minutes_per_answer: float | None
    reopen_rate: float | None
    mean_resolution_hours: float | None


@dataclass(frozen=True)
class FactorCount:
    factor: str
    label_en: str
    label_tr: str
    answers: int


@dataclass(frozen=True)
class AvoidedService:
    service_id: int
    label: str
    code: str
    tickets: int
    portal_tickets: int
    portal_share: float | None
    overall_portal_share: float | None
    portal_factors: tuple[FactorCount, ...]  # top negative factors in answers about its portal tickets
    other_factors: tuple[FactorCount, ...]  # ... and about its tickets from other channels


@dataclass(frozen=True)
class ChannelReport:
    tickets: int
    portal_share: float | None
    channels: tuple[ChannelFigures, ...]
    avoided: tuple[AvoidedService, ...]


# --- variants -------------------------------------------------------------------------------------


def variants(
    scope: Scope,
    period: Period,
    path: str = "group",
    dimension: str = "all",
    member: str | None = None,
    filters: Mapping[str, int | None] = {},
    limit: int = 20,
) -> list[Variant]:
    """The most frequent paths of the tickets resolved in the period, most frequent first. Happiness counts
    the answers about those tickets; a variant hurts when it is well below that of all of them."""
    if path not in PATH_COLUMNS:
        raise services.AnalyticsError(f"path is one of {', '.join(PATH_COLUMNS)}")
    services.check_dimension(dimension)
    filters = services.check_filters(filters)
    facts.catch_up()
    # One stored result serves every language and every limit up to KEPT_VARIANTS (the pages' choices).
    kept = max(limit, KEPT_VARIANTS)
    key = (scope_key(scope), period, path, dimension, member, tuple(sorted(filters.items())), kept,
           services.min_answers())  # fmt: skip
    found = remembered("variants", key, lambda: _variants(scope, period, path, dimension, member, filters, kept))
    return [_in_language(variant, path) for variant in found[:limit]]


def _in_language(variant: Variant, kind: str) -> Variant:
    """The variant with its steps named in the reader's language (states, "another group")."""
    if kind == "state":
        steps = tuple(str(TicketState(code).label) if code in TicketState.values else code for code in variant.codes)
    else:
        named = zip(variant.codes, variant.path, strict=True)
        steps = tuple(step if code else str(_("another group")) for code, step in named)
    return replace(variant, path=steps, label=facts.PATH_SEPARATOR.join(steps))


def _variants(scope, period, path, dimension, member, filters, limit) -> list[Variant]:
    column = PATH_COLUMNS[path]
    base = queries.tickets(scope, period.start, period.end, dimension, member, filters)
    base = base.exclude(**{column: ""})
    if dimension == "all":  # the rollups hold every path by group and service
        sums = queries.ticket_sums(scope, column, period.start, period.end, filters)
    else:
        sums = _path_sums(base, column)
    sums = {text: row for text, row in sums.items() if row["tickets"]}
    total = sum(row["tickets"] for row in sums.values())
    rows = sorted(sums.items(), key=lambda item: (-item[1]["tickets"], item[0]))[:limit]
    paths = [text for text, _ in rows]
    slices = services.sample_slices(total, JOURNEY_SAMPLE)
    if sampled := slices < SAMPLE_SLICES:  # many tickets: whole slices of ticket ids give the percentiles
        base = base.filter(sample__in=range(slices))
    overall = maths.happiness_from_counts(
        sum(row["promoters"] for row in sums.values()),
        sum(row["detractors"] for row in sums.values()),
        sum(row["answers"] for row in sums.values()),
    )
    hours = _resolution_hours(base, column, paths)
    names, hidden = _step_names(scope, path, paths)
    return [
        _variant(text, row, overall, hours.get(text, []), names, hidden, rank == 0, sampled, total)
        for rank, (text, row) in enumerate(rows)
    ]


def _variant(
    path: str, row: Mapping[str, int], overall: float | None, hours: list[float], names: Mapping[str, str],
    hidden: set[str], happy_path: bool, sampled: bool, total: int,
) -> Variant:  # fmt: skip
    codes = tuple("" if code in hidden else code for code in path.split(facts.PATH_SEPARATOR))
    steps = tuple(names.get(code, code) if code else str(_("another group")) for code in codes)
    happiness = _happiness(row)
    gap = round(happiness - overall, 1) if happiness is not None and overall is not None else None
    spread = maths.percentiles(hours, (50, 90))
    return Variant(
        path=steps, codes=codes, label=facts.PATH_SEPARATOR.join(steps), tickets=row["tickets"],
        share=maths.share(row["tickets"], total), median_hours=spread["p50"], p90_hours=spread["p90"],
        mean_reassignments=_rounded(row["reassignments"] / row["tickets"], 2),
        sla_compliance=maths.share(row["sla_met"], row["sla_known"]),
        reopen_rate=maths.share(row["reopened"], row["tickets"]), answers=row["answers"],
        happiness=happiness, lost_minutes_per_answer=_lost_per_answer(row),
        hurts=gap is not None and gap < -HURT_MARGIN and row["answers"] >= services.min_answers(),
        gap=gap, happy_path=happy_path, sampled=sampled,
    )  # fmt: skip


def _path_sums(base: QuerySet, column: str) -> dict[str, dict]:
    """What the rollups hold for each path (``queries.ticket_sums``), counted in the facts: for a member
    of another dimension, which the rollups do not keep."""
    found: dict[str, dict] = {}
    rows = base.values(path=F(column)).annotate(
        tickets=Count("ticket_id"),
        reassignments=Sum("reassignments"),
        sla_known=Count("ticket_id", filter=Q(sla_met__isnull=False)),
        sla_met=Count("ticket_id", filter=Q(sla_met=True)),
        reopened=Count("ticket_id", filter=Q(reopens__gt=0)),
    )
    for row in rows.order_by():
        path = row.pop("path")
        found[path] = {**row, **dict.fromkeys(ANSWER_COUNTS, 0)}
    for text, said in _answer_sums(base, column).items():
        if text in found:
            found[text].update({name: value or 0 for name, value in said.items()})
    return found


def _answers_to(tickets: QuerySet, since: date | None = None) -> QuerySet:
    """The answered invitations about these tickets; ``since``: a day none of them was answered before
    (the first day they were opened on), which lets the database read the recent answers only."""
    if since is None:
        return SurveyFact.objects.filter(ticket_id__in=Subquery(tickets.values("ticket_id")), score__isnull=False)
    # The recent answers, each looking its ticket up by key: far fewer rows than all the period's tickets.
    about = Exists(tickets.filter(ticket_id=OuterRef("ticket_id")))
    return SurveyFact.objects.filter(about, answered_day__gte=since, score__isnull=False)


ANSWER_COUNTS = ("answers", "promoters", "detractors", "lost_known", "lost_minutes")


def _answer_counts() -> dict:
    return {
        "answers": Count("invitation_id"),
        "promoters": Count("invitation_id", filter=Q(score__gte=9)),
        "detractors": Count("invitation_id", filter=Q(score__lte=6)),
        "lost_known": Count("invitation_id", filter=Q(lost_minutes__isnull=False)),
        "lost_minutes": Sum("lost_minutes"),
    }


def _answer_sums(base: QuerySet, column: str) -> dict[str, dict]:
    """Answer counts per path of the ticket answered about (every path, for the overall figure)."""
    ticket_path = TicketFact.objects.filter(ticket_id=OuterRef("ticket_id")).values(column)[:1]
    rows = _answers_to(base).annotate(path=Subquery(ticket_path)).values("path").annotate(**_answer_counts())
    return {row.pop("path"): row for row in rows.order_by()}


def _happiness(said: Mapping[str, int]) -> float | None:
    return maths.happiness_from_counts(said.get("promoters", 0), said.get("detractors", 0), said.get("answers", 0))


def _lost_per_answer(said: Mapping[str, int]) -> float | None:
    return maths.ratio(said.get("lost_minutes") or 0, said.get("lost_known", 0))


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _resolution_hours(base: QuerySet, column: str, paths: list[str]) -> dict[str, list[float]]:
    hours: dict[str, list[float]] = defaultdict(list)
    rows = base.filter(**{f"{column}__in": paths, "resolution_seconds__isnull": False})
    for path, seconds in rows.values_list(column, "resolution_seconds").iterator(chunk_size=20000):
        hours[path].append(seconds / 3600)
    return hours


def _step_names(scope: Scope, kind: str, paths: list[str]) -> tuple[dict[str, str], set[str]]:
    """Names of the steps, and the group codes the reader may not see: a ticket of one's own may have
    passed through another supplier's group, whose name and code stay hidden ("another group")."""
    codes = {code for path in paths for code in path.split(facts.PATH_SEPARATOR)}
    if kind == "state":
        return {code: str(TicketState(code).label) for code in codes if code in TicketState.values}, set()
    names = dict(org.groups(scope).filter(external_id__in=codes).values_list("external_id", "name"))
    return names, codes - set(names) if scope.is_restricted else set()


# --- channels -------------------------------------------------------------------------------------


def channels(
    scope: Scope,
    period: Period,
    dimension: str = "all",
    member: str | None = None,
    filters: Mapping[str, int | None] = {},
) -> ChannelReport:
    """Per channel, the tickets opened in the period, what they were about and how people found them;
    and the services whose people avoid the self-service portal, with the factors they name."""
    services.check_dimension(dimension)
    filters = services.check_filters(filters)
    facts.catch_up()
    key = (scope_key(scope), period, dimension, member, tuple(sorted(filters.items())))
    report = remembered("channels", key, lambda: _channels(scope, period, dimension, member, filters))
    channels = tuple(replace(figures, label=_channel_label(figures.channel)) for figures in report.channels)
    return replace(report, channels=channels)  # the channels named in the reader's language


def _channels(scope, period, dimension, member, filters) -> ChannelReport:
    base = queries.tickets(scope, period.start, period.end, dimension, member, filters, by="opened_day")
    if dimension == "all":  # the rollups hold every channel by group and service
        cells, answers = _channel_sums(scope, period, filters)
    else:
        cells, answers = _channel_facts(base, period)
    sums: dict[str, dict[str, int]] = {}
    for cell in cells:
        row = sums.setdefault(cell["channel"], {"tickets": 0, "reopened": 0, "resolved": 0, "seconds": 0})
        for name in row:
            row[name] += cell[name] or 0
    rows = sorted(sums.items(), key=lambda item: (-item[1]["tickets"], item[0]))
    total = sum(row["tickets"] for _, row in rows)
    uses = _service_uses(cells)
    figures = tuple(
        ChannelFigures(
            channel=channel, label=_channel_label(channel), tickets=row["tickets"],
            share=maths.share(row["tickets"], total), top_services=uses.get(channel, ()),
            answers=answers.get(channel, {}).get("answers", 0),
            happiness=_happiness(answers.get(channel, {})),
            lost_minutes_per_answer=_lost_per_answer(answers.get(channel, {})),
            reopen_rate=maths.share(row["reopened"], row["tickets"]),
            mean_resolution_hours=_rounded(row["seconds"] / row["resolved"] / 3600, 1) if row["resolved"] else None,
        )
        for channel, row in rows
    )  # fmt: skip
    portal_share, avoided = _avoided_portal(base, cells)
    return ChannelReport(tickets=total, portal_share=portal_share, channels=figures, avoided=avoided)


def _channel_sums(scope: Scope, period: Period, filters) -> tuple[list[dict], dict[str, dict]]:
    """The tickets opened in the period per channel and service, and the answers about them per channel,
    from the ticket rollups."""
    cells, answers = [], {}
    sums = queries.ticket_sums(scope, "channel", period.start, period.end, filters, by_service=True)
    for (channel, service), row in sums.items():
        if row["tickets"]:
            cells.append({"channel": channel, "service_id": service, "tickets": row["tickets"],
                          "reopened": row["reopened"], "resolved": row["resolved"],
                          "seconds": row["resolution_seconds"]})  # fmt: skip
        if row["answers"]:
            said = answers.setdefault(channel, dict.fromkeys(ANSWER_COUNTS, 0))
            for name in ANSWER_COUNTS:
                said[name] += row[name]
    return cells, answers


def _channel_facts(base: QuerySet, period: Period) -> tuple[list[dict], dict[str, dict]]:
    """``_channel_sums`` counted in the facts (for a member of another dimension, which the rollups do not
    keep)."""
    # One pass over the period's tickets, per channel and service: every ticket count comes from it.
    cells = list(
        base.values("channel", "service_id")
        .annotate(
            tickets=Count("ticket_id"),
            reopened=Count("ticket_id", filter=Q(reopens__gt=0)),
            resolved=Count("resolution_seconds"),
            seconds=Sum("resolution_seconds"),
        )
        .order_by()
    )
    # Nobody answers about a ticket before it was opened: the answers since the period began hold them all.
    said = _answers_to(base, since=period.start).values("channel").annotate(**_answer_counts())
    return cells, {row.pop("channel"): row for row in said}


def _channel_label(channel: str) -> str:
    return str(Channel(channel).label) if channel in Channel.values else channel


def _service_uses(cells: list[dict]) -> dict[str, tuple[ServiceUse, ...]]:
    """The top services of each channel by share of its tickets."""
    counts: dict[str, list[tuple[int | None, int]]] = defaultdict(list)
    for cell in sorted(cells, key=lambda cell: (-cell["tickets"], cell["service_id"] is None, cell["service_id"] or 0)):
        counts[cell["channel"]].append((cell["service_id"], cell["tickets"]))
    names = services.labels("service", {str(service) for pairs in counts.values() for service, _ in pairs})
    uses = {}
    for channel, pairs in counts.items():
        whole = sum(tickets for _, tickets in pairs)
        uses[channel] = tuple(
            ServiceUse(
                service_id=service, label=names.get(str(service), ("", ""))[0],
                code=names.get(str(service), ("", ""))[1], tickets=tickets, share=maths.share(tickets, whole),
            )
            for service, tickets in pairs[:TOP_SERVICES]
        )  # fmt: skip
    return uses


def _avoided_portal(base: QuerySet, cells: list[dict]) -> tuple[float | None, tuple[AvoidedService, ...]]:
    """The overall portal share of the tickets with a service, and the services far below it."""
    per_service: dict[int, dict] = {}
    for cell in cells:
        if cell["service_id"] is not None:
            row = per_service.setdefault(
                cell["service_id"], {"service_id": cell["service_id"], "tickets": 0, "portal": 0}
            )
            row["tickets"] += cell["tickets"]
            row["portal"] += cell["tickets"] if cell["channel"] == Channel.PORTAL else 0
    rows = [per_service[service] for service in sorted(per_service)]
    tickets, portal = sum(row["tickets"] for row in rows), sum(row["portal"] for row in rows)
    if tickets == 0 or portal == 0:
        return maths.share(portal, tickets), ()
    overall = portal / tickets
    avoiding = sorted((row for row in rows if _avoids(row, overall)), key=lambda row: row["portal"] / row["tickets"])
    names = services.labels("service", {str(row["service_id"]) for row in avoiding})
    polarities = services.factor_polarities()
    found = []
    for row in avoiding:
        about = base.filter(service_id=row["service_id"])
        name, code = names.get(str(row["service_id"]), ("", ""))
        found.append(
            AvoidedService(
                service_id=row["service_id"], label=name, code=code, tickets=row["tickets"],
                portal_tickets=row["portal"], portal_share=maths.share(row["portal"], row["tickets"]),
                overall_portal_share=maths.share(portal, tickets),
                portal_factors=_negative_factors(about.filter(channel=Channel.PORTAL), polarities),
                other_factors=_negative_factors(about.exclude(channel=Channel.PORTAL), polarities),
            )
        )  # fmt: skip
    return maths.share(portal, tickets), tuple(found)


def _avoids(row: Mapping[str, int], overall_share: float) -> bool:
    return row["tickets"] >= AVOIDED_MIN_TICKETS and row["portal"] / row["tickets"] < AVOIDED_RATIO * overall_share


def _negative_factors(tickets: QuerySet, polarities: Mapping[str, tuple[str, str, str]]) -> tuple[FactorCount, ...]:
    invitations = _answers_to(tickets).values("invitation_id")
    rows = (
        SurveyFactor.objects.filter(invitation_id__in=Subquery(invitations))
        .values("factor")
        .annotate(answers=Count("id"))
        .order_by("-answers", "factor")
    )
    found = []
    for row in rows:
        # An unknown key counts as a complaint, as elsewhere in analytics.
        polarity, label_en, label_tr = polarities.get(row["factor"], ("negative", row["factor"], row["factor"]))
        if polarity != "positive":
            found.append(FactorCount(row["factor"], label_en, label_tr, row["answers"]))
    return tuple(found[:TOP_FACTORS])
