"""The fast path of parse_ticket gives the very record (or the very errors) of the thorough one."""

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from itxm.bulk import utc_text
from itxm.tickets.records import _checked_ticket, parse_ticket, parse_usual_json

ISTANBUL = ZoneInfo("Europe/Istanbul")
TIMES = st.sampled_from(
    [
        None,
        "",
        "?",
        "2026-03-02T09:15:00Z",
        "2026-03-02T09:15:00+00:00",
        "2026-03-02T12:15:00+03:00",
        "2026-03-02T09:15:00.250000+00:00",
        "2026-03-02T09:15:00.000+00:00",
        "2026-03-02 09:15:00Z",
        "2026-03-02T09:15:00",
        "2026-03-02",
        " 2026-03-02T09:15:00Z",
        "2026-W10-1T09:15:00+00:00",
        "20260302T091500Z",
        "2026-03-02t09:15:00z",
        "2026-03-02T09:15:00.123456789Z",
        "2026-03-02T09:15Z",
        "2026-03-02T12:15:00+0300",
        "2026-03-02T24:00:00Z",
        "2026-02-29T09:15:00Z",
        "2026-03-02T09:15:00-00:00",
        "2026-13-02T09:15:00Z",
        "yesterday",
        datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 15),
        17,
    ]
)
LEVELS = st.sampled_from([None, "", "?", 1, 3, 5, 6, 0, "2 - High", "9", "x", True, 2.0, -1])
COUNTS = st.sampled_from([None, "", 0, 2, "3", " 4 ", -1, "x", True, 1.5])
BOOLS = st.sampled_from([None, "", True, False, "true", "No", "1", "maybe", 0])
KINDS = st.sampled_from([None, "", "incident", "request", "Incident", " ritm ", "INC", "problem", 3, ["x"]])
STATES = st.sampled_from([None, "", "new", "resolved", "Resolved", "in progress", "teleported", 7])
CHANNELS = st.sampled_from([None, "", "phone", "Self service", "e-mail", "fax", {"a": 1}])
REFERENCES = st.sampled_from([None, "", "?", "GRP-A", " GRP-A ", "x" * 120, 42])
TEXTS = st.sampled_from([None, "", "INC1", " INC1 ", "x" * 60, "x" * 400, 5])
CHANGE = st.fixed_dictionaries(
    {"at": TIMES, "kind": st.sampled_from(["state", "assignment", "State", "note", None])},
    optional={
        "from": st.sampled_from([None, "", "new", "GRP-A", " GRP-A", "on hold", "x" * 250]),
        "to": st.sampled_from([None, "", "resolved", "GRP-B", "GRP-B ", "Work in Progress", "nowhere"]),
    },
)
HISTORIES = st.one_of(st.none(), st.lists(CHANGE, max_size=4), st.sampled_from(["[]", {"at": 1}, [1]]))
TICKETS = st.fixed_dictionaries(
    {"source_id": st.sampled_from(["INC1", "", None, " INC2 ", 12]), "opened_at": TIMES},
    optional={
        "number": TEXTS,
        "kind": KINDS,
        "state": STATES,
        "short_description": TEXTS,
        "first_response_at": TIMES,
        "resolved_at": TIMES,
        "closed_at": TIMES,
        "updated_at": TIMES,
        "priority": LEVELS,
        "impact": LEVELS,
        "urgency": LEVELS,
        "channel": CHANNELS,
        "category": REFERENCES,
        "service": REFERENCES,
        "caller": REFERENCES,
        "group": REFERENCES,
        "assignee": REFERENCES,
        "reassignment_count": COUNTS,
        "reopen_count": COUNTS,
        "made_sla": BOOLS,
        "history": HISTORIES,
    },
)
# Values the thorough parse accepts, in the usual and the less usual notations.
GOOD_TIMES = st.sampled_from(
    [
        "2026-03-02T09:15:00Z",
        "2026-03-02T10:15:00+00:00",
        "2026-03-02T14:15:00+03:00",
        "2026-03-02T11:15:00.250000+00:00",
        "2026-03-02T12:15:00",
        "2026-03-03",
        datetime(2026, 3, 2, 13, 15, tzinfo=UTC),
    ]
)
GOOD_CHANGE = st.one_of(
    st.fixed_dictionaries(
        {"at": GOOD_TIMES, "kind": st.just("state"), "to": st.sampled_from(["new", "on_hold", "Resolved", "solved"])},
        optional={"from": st.sampled_from([None, "", "new", "in_progress", "Pending"])},
    ),
    st.fixed_dictionaries(
        {"at": GOOD_TIMES, "kind": st.just("assignment"), "to": st.sampled_from(["GRP-A", "GRP-B", "", " GRP-C "])},
        optional={"from": st.sampled_from([None, "", "GRP-A", " GRP-B "])},
    ),
)
GOOD_TICKETS = st.fixed_dictionaries(
    {
        "source_id": st.sampled_from(["INC1", " INC2 ", 12]),
        "opened_at": st.sampled_from(["2026-03-01T08:00:00Z", "2026-03-01T08:00:00+00:00", "2026-03-01 11:00+03:00"]),
        "state": st.sampled_from(["new", "resolved", "Resolved", "closed", "on_hold"]),
    },
    optional={
        "number": st.sampled_from([None, "", "INC1", " INC1 "]),
        "kind": st.sampled_from([None, "", "incident", "request", "Incident", " ritm "]),
        "short_description": st.sampled_from([None, "", "Printer", " Printer "]),
        "first_response_at": st.one_of(st.none(), GOOD_TIMES),
        "resolved_at": st.one_of(st.none(), GOOD_TIMES),
        "closed_at": st.one_of(st.none(), GOOD_TIMES),
        "updated_at": st.one_of(st.none(), GOOD_TIMES),
        "priority": st.sampled_from([None, "", 1, 5, "2 - High", 2.0]),
        "impact": st.sampled_from([None, 2, "3"]),
        "urgency": st.sampled_from([None, 3, "?"]),
        "channel": st.sampled_from([None, "", "phone", "Self service", "chat", "walk_in"]),
        "category": REFERENCES,
        "service": REFERENCES,
        "caller": REFERENCES,
        "group": REFERENCES,
        "assignee": REFERENCES,
        "reassignment_count": st.sampled_from([None, "", 0, 2, "3"]),
        "reopen_count": st.sampled_from([None, 0, 1, " 4 "]),
        "made_sla": st.sampled_from([None, "", True, False, "true", "No"]),
        "history": st.one_of(st.none(), st.lists(GOOD_CHANGE, max_size=5)),
    },
)
USUAL = {
    "source_id": "INC1",
    "state": "resolved",
    "opened_at": "2026-03-02T09:00:00Z",
    "resolved_at": "2026-03-02T10:30:00+00:00",
    "updated_at": "2026-03-02T10:30:00+00:00",
    "priority": 2,
    "history": [
        {"at": "2026-03-02T09:00:00Z", "kind": "state", "to": "new"},
        {"at": "2026-03-02T09:20:00Z", "kind": "assignment", "from": "GRP-NET", "to": "GRP-ALPHA"},
        {"at": "2026-03-02T10:30:00+00:00", "kind": "state", "from": "new", "to": "resolved"},
    ],
}


@settings(max_examples=600, deadline=None)
@given(st.one_of(GOOD_TICKETS, TICKETS), st.sampled_from([UTC, ISTANBUL]))
@example(USUAL, UTC)
@example(USUAL | {"opened_at": "2026-03-02T12:00:00+03:00"}, ISTANBUL)
def test_the_fast_path_agrees_with_the_thorough_parse(raw, default_tz):
    record, errors = parse_ticket(raw, 7, default_tz)

    assert (record, errors) == _checked_ticket(raw, 7, default_tz)
    if record is not None and record.db_times is not None:
        times = (record.opened_at, record.first_response_at, record.resolved_at, record.closed_at, record.updated_at)
        assert record.db_times == tuple(None if t is None else utc_text(t) for t in times)
    for event in (record and record.history) or ():
        assert event.db_at is None or event.db_at == utc_text(event.at)


def test_a_usual_ticket_keeps_the_text_sqlite_stores_for_its_times():
    record, _ = parse_ticket(USUAL, 1)

    assert record.db_times == ("2026-03-02 09:00:00", None, "2026-03-02 10:30:00", None, "2026-03-02 10:30:00")
    assert [event.db_at for event in record.history] == [
        "2026-03-02 09:00:00",
        "2026-03-02 09:20:00",
        "2026-03-02 10:30:00",
    ]


@given(
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 1, 1)),
    st.sampled_from([UTC, ISTANBUL, timezone(timedelta(hours=-5, minutes=-30))]),
)
def test_utc_text_is_what_django_stores_on_sqlite(moment, zone):
    aware = moment.replace(tzinfo=zone)
    # django.db.backends.sqlite3.operations.adapt_datetimefield_value with USE_TZ: naive UTC, then str()
    assert utc_text(aware) == str(aware.astimezone(UTC).replace(tzinfo=None))


def _as_json(value):
    """The ticket as a JSON sender writes it (datetimes as ISO text)."""
    return json.dumps(value, default=lambda moment: moment.isoformat()).encode()


RFC3339 = st.sampled_from(
    ["2026-03-02T09:15:00Z", "2026-03-02T12:15:00+03:00", "2026-03-02T09:15:00.5+00:00", "2026-03-02T09:15:00",
     "2026-03-02t09:15:00z", "2026-03-02T09:15:00.123456789Z", "2026-03-02T04:15:00-05:00"]
)  # fmt: skip
USUAL_VARIANTS = st.fixed_dictionaries(
    {"opened_at": RFC3339, "resolved_at": st.one_of(st.none(), RFC3339), "state": st.sampled_from(["new", "solved"])},
    optional={
        "priority": st.sampled_from([None, 1, 5]),
        "history": st.lists(
            st.fixed_dictionaries({"at": RFC3339, "kind": st.just("assignment"), "to": st.sampled_from(["G", ""])}),
            max_size=3,
        ),
    },
).map(lambda changed: USUAL | changed)


@settings(max_examples=600, deadline=None)
@given(st.one_of(GOOD_TICKETS, TICKETS, USUAL_VARIANTS), st.sampled_from([UTC, ISTANBUL]))
@example(USUAL, UTC)
@example(USUAL | {"opened_at": "2026-03-02T12:00:00+03:00"}, ISTANBUL)
def test_the_json_path_agrees_with_the_thorough_parse(raw, default_tz):
    body = _as_json(raw)
    record = parse_usual_json(body, default_tz)

    if record is not None:  # taken: the very record the thorough parse makes of the decoded JSON
        assert (record, []) == _checked_ticket(json.loads(body), 7, default_tz)
        times = (record.opened_at, record.first_response_at, record.resolved_at, record.closed_at, record.updated_at)
        assert record.db_times is None or record.db_times == tuple(None if t is None else utc_text(t) for t in times)
        assert all(event.db_at in (None, utc_text(event.at)) for event in record.history or ())


def test_the_json_path_takes_the_usual_ticket_and_leaves_the_unusual_to_the_thorough_parse():
    assert parse_usual_json(_as_json(USUAL)) == parse_ticket(USUAL, 1)[0]
    for unusual in ({"priority": "2 - High"}, {"impact": "3"}, {"reopen_count": "1"}, {"source_id": 7}):
        assert parse_usual_json(_as_json(USUAL | unusual)) is None
        assert parse_ticket(USUAL | unusual, 1)[0] is not None
    assert parse_usual_json(b'{"source_id": "X"') is None  # cut short: the caller reports it
