"""Gaming warnings counted by the database and kept per period give what the one-by-one computation gives."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from itxm.org.models import Agent, Employee, Group, Role
from itxm.org.scopes import EVERYTHING, PERMISSIONS, Scope
from itxm.surveys import gaming, gaming_results, queries, services
from itxm.surveys.models import GamingResult, Invitation, InvitationStatus, Response
from itxm.tickets.models import Ticket, TicketState

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
BASE = START - timedelta(days=gaming.BASELINE_DAYS)


def _build(seed: int = 7) -> dict:
    """Seven months of surveys for 12 agents in 3 groups, unassigned tickets, held-back invitations, and one
    agent planted for each rule: fast answers from one address (also a jump in 10s), 9–10 after reopenings, and
    a response rate far above its own past. One agent also works another group's tickets."""
    rng = random.Random(seed)
    groups = [Group.objects.create(external_id=f"G{n}", name=f"Group {n}") for n in range(3)]
    agents = [Agent.objects.create(external_id=f"A{n}", name=f"Agent {n}", group=groups[n % 3]) for n in range(12)]
    agents.append(Agent.objects.create(external_id="A-LONE", name="No group"))
    callers = Employee.objects.bulk_create(
        [Employee(external_id=f"E{n}", name=f"Caller {n}", email=f"e{n}@example.com") for n in range(80)]
    )
    fast, glowing, eager = agents[0], agents[4], agents[8]
    tickets, plans = [], []
    for n in range(2400):
        in_period = n % 3 == 0
        resolved = (START if in_period else BASE) + timedelta(
            seconds=rng.randrange(0, (END - START if in_period else START - BASE).days * 86400)
        )
        if n == 0:
            resolved = START  # on the boundary: the period, not the baseline
        agent = rng.choice(agents + [None])
        group = agent.group if agent and agent.group else rng.choice(groups)
        if agent is agents[1] and n % 5 == 0:
            group = groups[2]  # working another group's ticket
        reopened = rng.random() < 0.1 or (agent is glowing and in_period and n % 2 == 0)
        tickets.append(
            Ticket(
                source="gen",
                source_id=str(n),
                number=f"INC{n:05d}",
                state=TicketState.RESOLVED,
                opened_at=resolved - timedelta(hours=3),
                resolved_at=resolved,
                group=group,
                assignee=agent,
                caller=rng.choice(callers),
                reopen_count=1 if reopened else 0,
                reassignment_count=rng.randrange(3),
            )  # fmt: skip
        )
        plans.append((agent, in_period, reopened))
    Ticket.objects.bulk_create(tickets)
    invitations, answers = [], []
    for ticket in tickets:
        held = rng.random() < 0.05
        invitations.append(
            Invitation(
                ticket=ticket,
                employee=ticket.caller,
                kind="incident",
                resolution_at=ticket.resolved_at,
                created_at=ticket.resolved_at,
                sent_at=None if held else ticket.resolved_at + timedelta(seconds=30),
                status=InvitationStatus.HELD_BACK if held else InvitationStatus.SENT,
            )  # fmt: skip
        )
    Invitation.objects.bulk_create(invitations)
    for n, (invitation, (agent, in_period, reopened)) in enumerate(zip(invitations, plans, strict=True)):
        rate = 0.8 if agent is eager and in_period else 0.3
        if rng.random() >= rate:
            continue
        score, after, ip = rng.choice((3, 6, 7, 8, 8, 9, 10)), rng.randrange(600, 90000), f"10.0.{n % 200}.{n % 7}"
        lost = rng.choice((None, 0, 10, 40, 150, 360))
        if agent is fast and in_period:
            score, after, ip = 10, (120 if n % 7 == 0 else rng.randrange(5, 110)), "10.9.9.9"
        elif agent is glowing and in_period and reopened:
            score = rng.choice((9, 10))
        elif reopened:
            score = rng.choice((2, 4, 5, 8))
        answered = invitation.resolution_at + timedelta(seconds=after)
        answers.append(
            Response(
                invitation=invitation,
                score=score,
                lost_minutes=lost,
                client_ip=ip,
                answered_at=answered,
                updated_at=answered,
            )  # fmt: skip
        )
    Response.objects.bulk_create(answers)
    return {"groups": groups, "fast": fast, "glowing": glowing, "eager": eager}


@pytest.fixture
def generated(db):
    return _build()


@pytest.mark.django_db
def test_counted_by_the_database_equals_one_by_one(generated):
    for start, end in ((START, END), (START + timedelta(days=10), END), (START - timedelta(days=60), START)):
        base = start - timedelta(days=gaming.BASELINE_DAYS)
        facts = queries.survey_facts(EVERYTHING, base, end)
        counted = gaming_results.compute(start, end)
        for by in gaming_results.BY:
            assert counted[by] == gaming.detect(facts, start, end, base, by)
    # Every rule fires in the first period, so each is compared.
    flagged = {(w.subject_id, w.signal) for w in gaming_results.compute(START, END)["agent"]}
    assert {
        (generated["fast"].pk, gaming.FAST_ANSWERS),
        (generated["fast"].pk, gaming.SAME_NETWORK),
        (generated["fast"].pk, gaming.TENS_JUMP),
        (generated["glowing"].pk, gaming.DISAGREEMENT),
        (generated["eager"].pk, gaming.RESPONSE_RATE),
    } <= flagged


@pytest.mark.django_db
def test_the_service_reads_kept_warnings_until_the_data_changes(generated, monkeypatch):
    first = services.gaming_signals(EVERYTHING, START, END)
    assert first["agent"] and GamingResult.objects.count() == 1  # kept, evidence and examples as computed
    assert first == gaming_results.compute(START, END)

    def not_again(start, end):
        raise AssertionError("computed again although nothing changed")

    monkeypatch.setattr(gaming_results, "compute", not_again)
    assert services.gaming_signals(EVERYTHING, START, END) == first
    supplier = Scope(group_ids=frozenset({generated["groups"][0].pk}), permissions=PERMISSIONS[Role.SUPPLIER])
    narrowed = services.gaming_signals(supplier, START, END)
    assert narrowed["agent"] and {w.group_id for w in narrowed["agent"]} == {generated["groups"][0].pk}

    monkeypatch.undo()
    invitation = Invitation.objects.filter(resolution_at__gte=START, response__isnull=True, sent_at__isnull=False)[0]
    Response.objects.create(invitation=invitation, score=0, answered_at=END, updated_at=END)
    again = services.gaming_signals(EVERYTHING, START, END)
    assert again == gaming_results.compute(START, END)
    assert GamingResult.objects.get().version == gaming_results.data_version()


@pytest.mark.django_db
def test_a_slow_result_is_read_for_a_while_after_the_data_changed(generated):
    gaming_results.refresh(START, END)
    GamingResult.objects.update(version="older", compute_seconds=gaming_results.SLOW_SECONDS + 1)
    kept = gaming_results.read(START, END)
    assert GamingResult.objects.get().version == "older" and kept == gaming_results.compute(START, END)
    # Too old to be read in place of fresh warnings: computed again.
    late = timezone.now() - timedelta(seconds=gaming_results.STALE_SECONDS + 60)
    GamingResult.objects.update(computed_at=late)
    gaming_results.read(START, END)
    assert GamingResult.objects.get().version == gaming_results.data_version()


@pytest.mark.django_db
def test_the_worker_redoes_read_periods_and_carries_them_on_to_today(generated):
    today = date(2026, 4, 1)
    month = (START, END)  # an XLA's March, read until yesterday
    rolling = (END - timedelta(days=30), END)  # the last 30 days, read yesterday
    for start, end in (month, rolling):
        gaming_results.refresh(start, end)
    GamingResult.objects.update(version="older")
    GamingResult.objects.create(start=BASE, end=START, version="older", read_at=timezone.now() - timedelta(days=8))

    assert gaming_results.refresh_due(today=today) == 4
    tomorrow = END + timedelta(days=1)
    assert dict(GamingResult.objects.values_list("start", "end").values_list("start", "end")) == {
        START: END,  # March redone (late answers still count)
        rolling[0]: END,
        END: tomorrow,  # April so far
        rolling[0] + timedelta(days=1): tomorrow,  # the last 30 days as of today
    }  # the period nobody read for a week is forgotten
    assert set(GamingResult.objects.values_list("version", flat=True)) == {gaming_results.data_version()}
    assert gaming_results.refresh_due(today=today) == 0  # nothing changed since
