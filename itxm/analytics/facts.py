"""Facts and rollups, computed from tickets, SLA verdicts, invitations and answers.

``rebuild()`` computes everything; ``catch_up()`` recomputes only the tickets and invitations queued in
``PendingFact`` (by the signals of ingestion and surveys) and the rollups of the days they touch. Every
dashboard read calls ``catch_up()`` first, so what people see is never behind what was stored.
Days are UTC days.
"""

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import islice

from django.db import connection, transaction
from django.db.models import F, Q

from itxm.analytics.models import (
    SAMPLE_SLICES,
    TOTAL,
    FactorRollup,
    FactsVersion,
    MonthFactorRollup,
    MonthRollup,
    MonthTicketRollup,
    PendingFact,
    Rollup,
    SurveyFact,
    SurveyFactor,
    TicketFact,
    TicketRollup,
)
from itxm.analytics.periods import next_month
from itxm.bulk import insert_rows, refresh_statistics
from itxm.surveys.models import Invitation
from itxm.tickets.models import EventKind, SlaTarget, Ticket, TicketEvent, TicketSla, TicketState

CHUNK = 5000
PATH_LENGTH = 500
PATH_SEPARATOR = " > "

# A dimension and the fact column that holds its member (None: one member, the whole organisation).
DIMENSIONS: dict[str, str | None] = {
    "all": None,
    "service": "service_id",
    "category": "category_id",
    "group": "group_id",
    "supplier": "supplier_id",
    "agent": "agent_id",
    "department": "department_id",
    "location": "location_id",
    "country": "country",
    "channel": "channel",
    "priority": "priority",
    "kind": "kind",
}
TEXT_MEMBERS = frozenset({"country", "channel", "kind"})
DONE = frozenset({TicketState.RESOLVED, TicketState.CLOSED})

TICKET_FACT_FIELDS = (
    "ticket_id", "opened_day", "resolved_day", "kind", "channel", "priority", "service_id", "category_id",
    "group_id", "supplier_id", "agent_id", "department_id", "location_id", "country", "resolution_seconds",
    "reassignments", "reopens", "ping_pongs", "waiting_seconds", "first_contact_resolution", "sla_met",
    "itxm_sla_met", "group_path", "state_path", "sample",
)  # fmt: skip
TICKET_SOURCE = (
    "id", "opened_at", "resolved_at", "state", "kind", "channel", "priority", "service_id", "category_id",
    "group_id", "group__supplier_id", "assignee_id", "caller__department_id", "caller__location_id",
    "caller__country", "caller__location__country", "reassignment_count", "reopen_count", "ping_pongs",
    "waiting_seconds", "first_contact_resolution", "source_made_sla", "group__external_id",
)  # fmt: skip
SURVEY_FACT_FIELDS = (
    "invitation_id", "ticket_id", "kind", "sent_day", "answered_day", "channel", "priority", "service_id",
    "category_id", "group_id", "supplier_id", "agent_id", "department_id", "location_id", "country", "score",
    "lost_minutes", "lost_cost", "factors",
)  # fmt: skip
SURVEY_SOURCE = (
    "id", "ticket_id", "kind", "sent_at", "created_at", "ticket__channel", "ticket__priority",
    "ticket__service_id", "ticket__category_id", "ticket__group_id", "ticket__group__supplier_id",
    "ticket__assignee_id", "employee__department_id", "employee__location_id", "employee__country",
    "employee__location__country", "employee__cost_per_hour", "response__score", "response__lost_minutes",
    "response__factors", "response__answered_at",
)  # fmt: skip


# --- ticket facts ---------------------------------------------------------------------------------


def _itxm_verdicts(ticket_filter: Q) -> dict[int, bool | None]:
    """ITXM's resolution verdict per ticket: breached if any resolution SLA was, met if all were."""
    verdicts: dict[int, bool | None] = {}
    rows = TicketSla.objects.filter(ticket_filter, definition__target=SlaTarget.RESOLUTION).values_list(
        "ticket_id", "met", "breached"
    )
    for ticket_id, met, breached in rows:
        before = verdicts.get(ticket_id, True)
        if breached or before is False:
            verdicts[ticket_id] = False
        elif met is None or before is None:
            verdicts[ticket_id] = None
        else:
            verdicts[ticket_id] = True
    return verdicts


def _paths(event_filter: Q) -> dict[int, tuple[str, str]]:
    """The groups and states each ticket went through, in order, repeats folded."""
    groups: dict[int, list[str]] = {}
    states: dict[int, list[str]] = {}
    rows = (
        TicketEvent.objects.filter(event_filter)
        .order_by("ticket_id", "seq")
        .values_list("ticket_id", "kind", "to_value")
    )
    for ticket_id, kind, value in rows:
        if not value:
            continue
        path = (groups if kind == EventKind.ASSIGNMENT else states).setdefault(ticket_id, [])
        if not path or path[-1] != value:
            path.append(value)
    return {
        ticket_id: (_joined(groups.get(ticket_id, [])), _joined(states.get(ticket_id, [])))
        for ticket_id in groups.keys() | states.keys()
    }


def _joined(path: list[str]) -> str:
    text = PATH_SEPARATOR.join(path)
    return text if len(text) <= PATH_LENGTH else text[: PATH_LENGTH - 1] + "…"


def _day(moment: datetime | None) -> date | None:
    return None if moment is None else moment.date()


def _ticket_fact_rows(ticket_filter: Q, event_filter: Q, sla_filter: Q) -> list[tuple]:
    verdicts = _itxm_verdicts(sla_filter)
    paths = _paths(event_filter)
    rows = []
    for values in Ticket.objects.filter(ticket_filter).values_list(*TICKET_SOURCE):
        (ticket_id, opened, resolved, state, kind, channel, priority, service, category, group, supplier, agent,
         department, location, country, location_country, reassignments, reopens, ping_pongs, waiting, fcr,
         source_sla, group_code) = values  # fmt: skip
        done = state in DONE and resolved is not None
        itxm_sla = verdicts.get(ticket_id)
        group_path, state_path = paths.get(ticket_id, ("", ""))
        # A ticket sent without its history has been where it is now.
        group_path, state_path = group_path or group_code or "", state_path or state
        rows.append((
            ticket_id, _day(opened), _day(resolved) if done else None, kind, channel, priority, service, category,
            group, supplier, agent, department, location, (country or location_country or "")[:2],
            max(0, int((resolved - opened).total_seconds())) if done else None,
            reassignments, reopens, ping_pongs, waiting, fcr,
            source_sla if source_sla is not None else itxm_sla, itxm_sla, group_path, state_path,
            ticket_id % SAMPLE_SLICES,
        ))  # fmt: skip
    return rows


def _ticket_days(ticket_ids: list[int]) -> set[date]:
    days: set[date] = set()
    for opened, resolved in TicketFact.objects.filter(ticket_id__in=ticket_ids).values_list(
        "opened_day", "resolved_day"
    ):
        days.update(day for day in (opened, resolved) if day)
    return days


def refresh_tickets(ticket_ids: Iterable[int]) -> set[date]:
    """Recompute the facts of these tickets and of their invitations; returns the days they touch."""
    ids = sorted(set(ticket_ids))
    days: set[date] = set()
    for begin in range(0, len(ids), CHUNK):
        chunk = ids[begin : begin + CHUNK]
        days |= _ticket_days(chunk)
        TicketFact.objects.filter(ticket_id__in=chunk).delete()
        rows = _ticket_fact_rows(Q(id__in=chunk), Q(ticket_id__in=chunk), Q(ticket_id__in=chunk))
        insert_rows(TicketFact, TICKET_FACT_FIELDS, rows)
        days |= {day for row in rows for day in (row[1], row[2]) if day}
        invitations = Invitation.objects.filter(ticket_id__in=chunk).values_list("id", flat=True)
        days |= refresh_invitations(list(invitations))
    return days


# --- survey facts ---------------------------------------------------------------------------------


def _survey_fact_rows(invitation_filter: Q) -> tuple[list[tuple], list[tuple]]:
    facts, factors = [], []
    reached = Q(sent_at__isnull=False) | Q(response__isnull=False)
    for values in Invitation.objects.filter(invitation_filter).filter(reached).values_list(*SURVEY_SOURCE):
        (invitation_id, ticket_id, kind, sent, created, channel, priority, service, category, group, supplier,
         agent, department, location, country, location_country, cost_per_hour, score, lost_minutes, keys,
         answered) = values  # fmt: skip
        answered_day = _day(answered) if score is not None else None
        lost_cost = None
        if lost_minutes is not None and cost_per_hour is not None:
            lost_cost = round(lost_minutes / 60 * float(cost_per_hour), 2)
        keys = [key for key in (keys or []) if isinstance(key, str) and key] if answered_day else []
        facts.append((
            invitation_id, ticket_id, kind, _day(sent or created), answered_day, channel or "", priority, service,
            category, group, supplier, agent, department, location, (country or location_country or "")[:2],
            score if answered_day else None, lost_minutes if answered_day else None, lost_cost,
            f",{','.join(keys)}," if keys else "",
        ))  # fmt: skip
        factors.extend((invitation_id, key[:50]) for key in keys)
    return facts, factors


def _survey_days(invitation_ids: list[int]) -> set[date]:
    days: set[date] = set()
    for sent, answered in SurveyFact.objects.filter(invitation_id__in=invitation_ids).values_list(
        "sent_day", "answered_day"
    ):
        days.update(day for day in (sent, answered) if day)
    return days


def refresh_invitations(invitation_ids: Iterable[int]) -> set[date]:
    ids = sorted(set(invitation_ids))
    days: set[date] = set()
    for begin in range(0, len(ids), CHUNK):
        chunk = ids[begin : begin + CHUNK]
        days |= _survey_days(chunk)
        SurveyFact.objects.filter(invitation_id__in=chunk).delete()
        SurveyFactor.objects.filter(invitation_id__in=chunk).delete()
        facts, factors = _survey_fact_rows(Q(id__in=chunk))
        insert_rows(SurveyFact, SURVEY_FACT_FIELDS, facts)
        insert_rows(SurveyFactor, ("invitation_id", "factor"), factors)
        days |= {day for row in facts for day in (row[3], row[4]) if day}
    return days


# --- rollups --------------------------------------------------------------------------------------

# Each rollup row sums four kinds of events; a branch names the table, the day column, and its measures.
BRANCHES = (
    ("analytics_ticketfact", "opened_day", {"opened": "1"}),
    (
        "analytics_ticketfact",
        "resolved_day",
        {
            "resolved": "1",
            "sla_known": "CASE WHEN sla_met IS NULL THEN 0 ELSE 1 END",
            "sla_met": "CASE WHEN sla_met THEN 1 ELSE 0 END",
            "itxm_sla_known": "CASE WHEN itxm_sla_met IS NULL THEN 0 ELSE 1 END",
            "itxm_sla_met": "CASE WHEN itxm_sla_met THEN 1 ELSE 0 END",
            "reassigned": "CASE WHEN reassignments > 0 THEN 1 ELSE 0 END",
            "reassignments": "reassignments",
            "reopened": "CASE WHEN reopens > 0 THEN 1 ELSE 0 END",
            "ping_ponged": "CASE WHEN ping_pongs > 0 THEN 1 ELSE 0 END",
            "first_contact": "CASE WHEN first_contact_resolution THEN 1 ELSE 0 END",
            "resolution_seconds": "COALESCE(resolution_seconds, 0)",
            "waiting_seconds": "waiting_seconds",
        },
    ),
    ("analytics_surveyfact", "sent_day", {"invited": "1"}),
    (
        "analytics_surveyfact",
        "answered_day",
        {
            "answered": "1",
            "score_sum": "score",
            "promoters": "CASE WHEN score >= 9 THEN 1 ELSE 0 END",
            "detractors": "CASE WHEN score <= 6 THEN 1 ELSE 0 END",
            "lost_known": "CASE WHEN lost_minutes IS NULL THEN 0 ELSE 1 END",
            "lost_minutes": "COALESCE(lost_minutes, 0)",
            "lost_cost": "COALESCE(lost_cost, 0.0)",
        },
    ),
)
MEASURES = tuple(name for _, _, measures in BRANCHES for name in measures)


def _member(dimension: str, prefix: str = "") -> tuple[str, str]:
    """The SQL of a dimension's member and the condition that it is known."""
    column = DIMENSIONS[dimension]
    if column is None:
        return "CAST('' AS TEXT)", "1 = 1"
    if dimension in TEXT_MEMBERS:
        return f"{prefix}{column}", f"{prefix}{column} <> ''"
    return f"CAST({prefix}{column} AS TEXT)", f"{prefix}{column} IS NOT NULL"


def _day_filter(column: str, days: list[str] | None) -> tuple[str, list]:
    if days is None:
        return f"{column} IS NOT NULL", []
    return f"{column} IN ({', '.join(['%s'] * len(days))})", list(days)


def _rollup_sql(dimension: str, days: list[str] | None) -> tuple[str, list]:
    member, known = _member(dimension)
    selects, params = [], []
    for table, day_column, measures in BRANCHES:
        where, day_params = _day_filter(day_column, days)
        values = ", ".join(f"{measures.get(name, '0')} AS {name}" for name in MEASURES)
        selects.append(
            f"SELECT {day_column} AS day, {member} AS member, group_id, service_id, {values} "  # noqa: S608
            f"FROM {table} WHERE {where} AND {known}"
        )
        params += day_params
    sums = ", ".join(f"SUM({name})" for name in MEASURES)
    sql = (
        f"INSERT INTO analytics_rollup (day, dimension, member, group_id, service_id, {', '.join(MEASURES)}) "  # noqa: S608
        f"SELECT day, %s, member, group_id, service_id, {sums} FROM ({' UNION ALL '.join(selects)}) AS events "
        "GROUP BY day, member, group_id, service_id"
    )
    return sql, [dimension, *params]


def _factor_sql(dimension: str, days: list[str] | None) -> tuple[str, list]:
    member, known = _member(dimension, "f.")
    where, params = _day_filter("f.answered_day", days)
    sql = (
        "INSERT INTO analytics_factorrollup (day, dimension, member, group_id, service_id, factor, answers) "  # noqa: S608
        f"SELECT f.answered_day, %s, {member}, f.group_id, f.service_id, x.factor, COUNT(*) "
        "FROM analytics_surveyfactor x JOIN analytics_surveyfact f ON f.invitation_id = x.invitation_id "
        f"WHERE {where} AND {known} GROUP BY f.answered_day, {member}, f.group_id, f.service_id, x.factor"
    )
    return sql, [dimension, *params]


# The ticket rollups: per dimension, the day a ticket counts on, its member, the member of an answer about
# it, and whether tickets without a member are left out (a path is; a channel may be empty).
TICKET_DIMENSIONS = {
    "group_path": ("resolved_day", "t.group_path", "t.group_path", True),
    "state_path": ("resolved_day", "t.state_path", "t.state_path", True),
    "channel": ("opened_day", "t.channel", "s.channel", False),
}
TICKET_BRANCHES = (
    (
        "analytics_ticketfact t",
        "1 = 1",
        {
            "tickets": "1",
            "reassignments": "t.reassignments",
            "sla_known": "CASE WHEN t.sla_met IS NULL THEN 0 ELSE 1 END",
            "sla_met": "CASE WHEN t.sla_met THEN 1 ELSE 0 END",
            "reopened": "CASE WHEN t.reopens > 0 THEN 1 ELSE 0 END",
            "resolved": "CASE WHEN t.resolution_seconds IS NULL THEN 0 ELSE 1 END",
            "resolution_seconds": "COALESCE(t.resolution_seconds, 0)",
        },
    ),
    (
        "analytics_surveyfact s JOIN analytics_ticketfact t ON t.ticket_id = s.ticket_id",
        "s.score IS NOT NULL",
        {
            "answers": "1",
            "promoters": "CASE WHEN s.score >= 9 THEN 1 ELSE 0 END",
            "detractors": "CASE WHEN s.score <= 6 THEN 1 ELSE 0 END",
            "lost_known": "CASE WHEN s.lost_minutes IS NULL THEN 0 ELSE 1 END",
            "lost_minutes": "COALESCE(s.lost_minutes, 0)",
        },
    ),
)
TICKET_MEASURES = tuple(name for _, _, measures in TICKET_BRANCHES for name in measures)


def _ticket_rollup_sql(dimension: str, days: list[str] | None) -> tuple[str, list]:
    day_column, ticket_member, answer_member, known_only = TICKET_DIMENSIONS[dimension]
    where, day_params = _day_filter(f"t.{day_column}", days)
    selects, params = [], []
    for (source, condition, measures), member in zip(TICKET_BRANCHES, (ticket_member, answer_member), strict=True):
        known = f" AND {ticket_member} <> ''" if known_only else ""
        values = ", ".join(f"{measures.get(name, '0')} AS {name}" for name in TICKET_MEASURES)
        selects.append(
            f"SELECT t.{day_column} AS day, {member} AS member, t.group_id, t.service_id, {values} "  # noqa: S608
            f"FROM {source} WHERE {where} AND {condition}{known}"
        )
        params += day_params
    columns, sums = ", ".join(TICKET_MEASURES), ", ".join(f"SUM({name})" for name in TICKET_MEASURES)
    sql = (
        f"INSERT INTO analytics_ticketrollup (day, dimension, member, group_id, service_id, {columns}) "  # noqa: S608
        f"SELECT day, %s, member, group_id, service_id, {sums} FROM ({' UNION ALL '.join(selects)}) AS events "
        "GROUP BY day, member, group_id, service_id"
    )
    return sql, [dimension, *params]


def _month_starts(days: Iterable[date]) -> list[date]:
    return sorted({day.replace(day=1) for day in days})


MONTH_SOURCES = (
    ("analytics_monthrollup", "analytics_rollup", MEASURES),
    ("analytics_monthfactorrollup", "analytics_factorrollup", ("answers",)),
    ("analytics_monthticketrollup", "analytics_ticketrollup", TICKET_MEASURES),
)
TICKET_MONTHS = MONTH_SOURCES[2:]


def refresh_months(months: Iterable[date] | None = None, sources=MONTH_SOURCES) -> None:
    """Sum the daily rollups of these months (first days; ``None``: every month with data) into the
    monthly ones, in key order."""
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        if months is None:
            cursor.execute("SELECT MIN(day), MAX(day) FROM analytics_rollup")
            low, high = cursor.fetchone()
            months = _all_months(low, high)
        for first in _month_starts(months):
            after = next_month(first)
            for target, source, columns in sources:
                keys = "dimension, group_id, service_id, member" + (", factor" if "factor" in target else "")
                cursor.execute(f"DELETE FROM {target} WHERE day = %s", [adapt(first)])  # noqa: S608
                # In key order: a dimension's total rows (group -1) side by side, read in a few pages.
                cursor.execute(
                    f"INSERT INTO {target} (day, {keys}, {', '.join(columns)}) "  # noqa: S608
                    f"SELECT %s, {keys}, {', '.join(f'SUM({c})' for c in columns)} FROM {source} "
                    f"WHERE day >= %s AND day < %s GROUP BY {keys} ORDER BY {keys}",
                    [adapt(first), adapt(first), adapt(after)],
                )


def _all_months(low, high) -> list[date]:
    if low is None:
        return []
    low, high = (date.fromisoformat(v) if isinstance(v, str) else v for v in (low, high))
    months, current = [], low.replace(day=1)
    while current <= high:
        months.append(current)
        current = next_month(current)
    return months


def refresh_rollups(days: Iterable[date] | None = None, ticket_days: Iterable[date] = ()) -> None:
    """Recompute the daily rollups of these days (``None``: all of them), then their months; and the
    ticket rollups of ``ticket_days`` too (the days of tickets whose answers changed: they count there)."""
    if days is not None:
        days = set(days)
        ticket_days = set(ticket_days) - days
    else:
        MonthRollup.objects.all().delete()
        MonthFactorRollup.objects.all().delete()
        MonthTicketRollup.objects.all().delete()
        ticket_days = set()
    _refresh_days(days)
    refresh_months(days)
    if ticket_days:
        _refresh_days(ticket_days, tickets_only=True)
        refresh_months(ticket_days, TICKET_MONTHS)


def _refresh_days(days: set[date] | None, tickets_only: bool = False) -> None:
    models = (TicketRollup,) if tickets_only else (Rollup, FactorRollup, TicketRollup)
    if days is None:
        day_lists: list[list[str] | None] = [None]
        for model in models:
            model.objects.all().delete()
    else:
        ordered = sorted(set(days))
        if not ordered:
            return
        day_lists = [
            [connection.ops.adapt_datefield_value(day) for day in ordered[i : i + 400]]
            for i in range(0, len(ordered), 400)
        ]
        for chunk in day_lists:
            for model in models:
                model.objects.filter(day__in=chunk).delete()
    totals = [("analytics_ticketrollup", TICKET_MEASURES)]
    if not tickets_only:
        totals = [("analytics_rollup", MEASURES), ("analytics_factorrollup", ("answers",)), *totals]
    with connection.cursor() as cursor:
        for chunk in day_lists:
            if not tickets_only:
                for dimension in DIMENSIONS:
                    cursor.execute(*_rollup_sql(dimension, chunk))
                    cursor.execute(*_factor_sql(dimension, chunk))
            for dimension in TICKET_DIMENSIONS:
                cursor.execute(*_ticket_rollup_sql(dimension, chunk))
            for table, columns in totals:
                cursor.execute(*_totals_sql(table, columns, chunk))


def _totals_sql(table: str, columns, days: list[str] | None) -> tuple[str, list]:
    """Rows summing every group and service (group and service ``TOTAL``), for readers who see
    everything: a year of one dimension is then one row per member and month. Written in the order they
    are read (the ``*_totals`` indexes), so that a period of one dimension sits in a few pages."""
    factor = "factor" in table
    keys = "day, dimension, member" + (", factor" if factor else "")
    order = "dimension, member, day, factor" if factor else "dimension, day, member"
    where, params = _day_filter("day", days)
    sql = (
        f"INSERT INTO {table} ({keys}, group_id, service_id, {', '.join(columns)}) "  # noqa: S608
        f"SELECT {keys}, %s, %s, {', '.join(f'SUM({c})' for c in columns)} FROM {table} "
        f"WHERE {where} GROUP BY {keys} ORDER BY {order}"
    )
    return sql, [TOTAL, TOTAL, *params]


# --- whole rebuild and catching up ----------------------------------------------------------------


def _id_ranges(model, field: str = "id") -> Iterator[tuple[int, int]]:
    ids = model.objects.order_by(field).values_list(field, flat=True).iterator(chunk_size=CHUNK)
    while chunk := list(islice(ids, CHUNK)):
        yield chunk[0], chunk[-1]


def rebuild(progress=None) -> dict[str, int]:
    """Compute every fact and rollup from scratch (after a bulk load, or to repair)."""
    with transaction.atomic():
        PendingFact.objects.all().delete()
        TicketFact.objects.all().delete()
        SurveyFact.objects.all().delete()
        SurveyFactor.objects.all().delete()
        for low, high in list(_id_ranges(Ticket)):
            rows = _ticket_fact_rows(
                Q(id__gte=low, id__lte=high), Q(ticket_id__gte=low, ticket_id__lte=high),
                Q(ticket_id__gte=low, ticket_id__lte=high),
            )  # fmt: skip
            insert_rows(TicketFact, TICKET_FACT_FIELDS, rows)
            if progress:
                progress(len(rows))
        for low, high in list(_id_ranges(Invitation)):
            facts, factors = _survey_fact_rows(Q(id__gte=low, id__lte=high))
            insert_rows(SurveyFact, SURVEY_FACT_FIELDS, facts)
            insert_rows(SurveyFactor, ("invitation_id", "factor"), factors)
            if progress:
                progress(len(facts))
        refresh_statistics(TicketFact, SurveyFact, SurveyFactor)
        refresh_rollups(None)
        refresh_statistics(Rollup, FactorRollup, MonthRollup, MonthFactorRollup, TicketRollup, MonthTicketRollup)
        _analyse_sqlite()
        _moved()
    return {
        "ticket facts": TicketFact.objects.count(),
        "survey facts": SurveyFact.objects.count(),
        "rollup rows": Rollup.objects.count(),
    }


def version() -> int:
    """Moves whenever facts change (a catch-up that did something, a rebuild)."""
    return FactsVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def _moved() -> None:
    if not FactsVersion.objects.filter(pk=1).update(version=F("version") + 1):
        FactsVersion.objects.get_or_create(pk=1, defaults={"version": 1})


def _analyse_sqlite() -> None:
    """SQLite picks the sample index for percentiles only when it has statistics of the tables."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for table in ("analytics_ticketfact", "analytics_surveyfact", "analytics_rollup", "analytics_monthrollup",
                          "analytics_factorrollup", "analytics_monthfactorrollup", "analytics_ticketrollup",
                          "analytics_monthticketrollup"):  # fmt: skip
                cursor.execute(f"ANALYZE {table}")


def _tickets_answered_about(invitation_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for begin in range(0, len(invitation_ids), CHUNK):
        chunk = invitation_ids[begin : begin + CHUNK]
        found.update(
            SurveyFact.objects.filter(invitation_id__in=chunk, ticket_id__isnull=False).values_list(
                "ticket_id", flat=True
            )
        )
    return found


def _days_of_tickets(ticket_ids: set[int]) -> set[date]:
    ordered = sorted(ticket_ids)
    return {day for begin in range(0, len(ordered), CHUNK) for day in _ticket_days(ordered[begin : begin + CHUNK])}


def _lock() -> None:
    """One catch-up at a time (SQLite's write transactions already queue)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x17A4])


def catch_up() -> int:
    """Bring the facts and rollups up to date with what was queued; returns how many objects it redid."""
    if not PendingFact.objects.exists():
        return 0
    with transaction.atomic():
        _lock()
        pending = list(PendingFact.objects.values_list("id", "kind", "object_id"))
        if not pending:
            return 0
        tickets = [object_id for _, kind, object_id in pending if kind == PendingFact.TICKET]
        invitations = [object_id for _, kind, object_id in pending if kind == PendingFact.INVITATION]
        about = _tickets_answered_about(invitations)
        days = refresh_tickets(tickets) | refresh_invitations(invitations)
        about |= _tickets_answered_about(invitations)  # before and after: an answer may change its ticket
        refresh_rollups(days, _days_of_tickets(about))
        _moved()
        done = [row[0] for row in pending]
        for begin in range(0, len(done), CHUNK):
            PendingFact.objects.filter(id__in=done[begin : begin + CHUNK]).delete()
    return len(pending)
