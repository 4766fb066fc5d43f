from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from itxm.tickets.journeys import Change, groups_path, journey_facts, ping_pongs, stored_facts

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def assign(minutes, old, new):
    return Change(at(minutes), "assignment", old, new)


def state(minutes, old, new):
    return Change(at(minutes), "state", old, new)


def test_a_ticket_bounced_between_two_groups():
    changes = [
        state(0, "", "new"),
        assign(0, "", "Desk"),
        assign(10, "Desk", "Network"),
        assign(30, "Network", "Desk"),
        assign(50, "Desk", "Network"),
        state(90, "new", "resolved"),
    ]
    facts = journey_facts(changes, "phone", "resolved", at(90))
    assert facts.groups_path == ("Desk", "Network", "Desk", "Network")
    assert (facts.reassignments, facts.ping_pongs, facts.first_contact_resolution) == (3, 2, False)


def test_waiting_time_adds_up_every_wait_and_counts_an_open_wait_to_the_end():
    changes = [
        state(0, "", "new"),
        state(10, "new", "on_hold"),
        state(40, "on_hold", "in_progress"),
        state(60, "in_progress", "on_hold"),
    ]
    assert journey_facts(changes, "email", "on_hold", at(100)).waiting_seconds == (30 + 40) * 60


def test_reopenings_come_from_the_history_or_the_source_whichever_knows_more():
    changes = [state(0, "", "new"), state(5, "new", "resolved"), state(9, "resolved", "in_progress")]
    assert journey_facts(changes, "portal", "in_progress", at(10)).reopenings == 1
    assert journey_facts(changes, "portal", "in_progress", at(10), source_reopen_count=3).reopenings == 3


def test_first_contact_resolution_needs_a_live_channel_one_group_and_no_reopening():
    changes = [state(0, "", "new"), assign(0, "", "Desk"), state(8, "new", "resolved")]
    assert journey_facts(changes, "phone", "resolved", at(8)).first_contact_resolution
    assert not journey_facts(changes, "email", "resolved", at(8)).first_contact_resolution
    assert not journey_facts(changes, "phone", "in_progress", None).first_contact_resolution


@given(st.lists(st.sampled_from("ABC"), max_size=12))
def test_ping_pongs_never_exceed_the_hand_overs(groups):
    changes = [assign(i, "", g) for i, g in enumerate(groups)]
    path = groups_path(changes)
    assert all(a != b for a, b in zip(path, path[1:], strict=False))
    assert 0 <= ping_pongs(path) <= max(len(path) - 2, 0)


CHANGES = st.lists(
    st.builds(
        Change,
        at=st.integers(0, 600).map(at),
        kind=st.sampled_from(["state", "assignment"]),
        from_value=st.sampled_from(["", "new", "on_hold", "resolved", "closed", "A", "B"]),
        to_value=st.sampled_from(["", "new", "in_progress", "on_hold", "resolved", "closed", "cancelled", "A", "C"]),
    ),
    max_size=10,
)


@given(
    CHANGES,
    st.sampled_from(["phone", "email", "chat"]),
    st.sampled_from(["in_progress", "on_hold", "resolved", "closed"]),
    st.one_of(st.none(), st.integers(0, 900).map(at)),
    st.integers(0, 2),
)
def test_the_facts_stored_with_a_ticket_are_those_of_its_journey(changes, channel, state, end, source_reopens):
    facts = journey_facts(changes, channel, state, end, source_reopens)

    stored = stored_facts(changes, channel, state, end, source_reopens)

    assert stored == (facts.ping_pongs, facts.waiting_seconds, facts.first_contact_resolution)
