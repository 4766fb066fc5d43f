"""The SLA engine against a minute-by-minute reference, plus hand-computed tickets."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from itxm.tickets.sla import (
    BusinessSchedule,
    Disagreement,
    Facts,
    SlaDefinition,
    Timeline,
    add_business_seconds,
    business_seconds,
    compliance,
    elapsed_business_seconds,
    evaluate,
    verdict_disagreements,
)

HOUR = 3600
MINUTE = timedelta(minutes=1)
WEEK_MINUTES = 7 * 1440
LONDON = ZoneInfo("Europe/London")
ISTANBUL = ZoneInfo("Europe/Istanbul")

ZONES = ["UTC", "Europe/Istanbul", "Europe/London", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe"]
# DST changes in 2024 (UTC): spans are often started near one so the properties meet them.
DST_CHANGES = {
    "Europe/London": ["2024-03-31T01:00", "2024-10-27T01:00"],
    "America/New_York": ["2024-03-10T07:00", "2024-11-03T06:00"],
    "Australia/Sydney": ["2024-04-06T16:00", "2024-10-05T16:00"],
    "Australia/Lord_Howe": ["2024-04-06T15:00", "2024-10-05T15:30"],  # a half-hour change
}


# --- reference: walk every minute --------------------------------------------------------------------------


def reference_seconds(zone_name, intervals, holidays, start, end, pauses=()):
    """Count each UTC minute whose local wall-clock time lies in a working interval of a non-holiday day.

    ``intervals`` are (weekday, start minute, length in minutes); an interval belongs to the day it starts on.
    """
    zone = ZoneInfo(zone_name)
    by_weekday = {}
    for weekday, first, length in intervals:
        by_weekday.setdefault(weekday, []).append((first, first + length))
    total = 0
    minute = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while minute < end:
        if not any(a <= minute < b for a, b in pauses):
            local = minute.astimezone(zone)
            of_day = local.hour * 60 + local.minute
            today = local.date()
            for day, at in ((today, of_day), (today - timedelta(days=1), of_day + 1440)):
                if day not in holidays and any(a <= at < b for a, b in by_weekday.get(day.weekday(), ())):
                    total += 60
                    break
        minute += MINUTE
    return total


def build_schedule(zone_name, intervals, holidays):
    hours = {}
    for weekday, first, length in intervals:
        last = (first + length) % 1440  # an end at or before the start runs into the next day
        hours.setdefault(weekday, []).append((time(first // 60, first % 60), time(last // 60, last % 60)))
    return BusinessSchedule(zone_name, hours, holidays)


@st.composite
def schedule_specs(draw):
    """A time zone and non-overlapping intervals: cut points on the week's circle, paired, turned at random."""
    zone = draw(st.sampled_from(ZONES))
    cut = st.one_of(st.integers(0, WEEK_MINUTES - 1), st.integers(0, 167).map(lambda hour: hour * 60))
    points = sorted(draw(st.lists(cut, unique=True, max_size=10)))
    turn = draw(st.sampled_from([0, 0, 22 * 60])) or draw(st.integers(0, WEEK_MINUTES - 1))
    intervals = []
    for a, b in zip(points[::2], points[1::2], strict=False):
        first = (a + turn) % WEEK_MINUTES
        intervals.append((first // 1440, first % 1440, min(b - a, 1440)))
    return zone, intervals


@st.composite
def instants(draw, zone):
    changes = DST_CHANGES.get(zone)
    if changes and draw(st.booleans()):
        anchor = datetime.fromisoformat(draw(st.sampled_from(changes))).replace(tzinfo=UTC)
        moment = anchor + draw(st.integers(-7 * 1440, 2 * 1440)) * MINUTE
    else:
        moment = datetime(2000, 1, 1, tzinfo=UTC) + draw(st.integers(0, 36 * 365 * 1440)) * MINUTE
    # Callers may pass any time zone.
    return moment.astimezone(draw(st.sampled_from([UTC, ZoneInfo(zone), timezone(timedelta(hours=-5))])))


@st.composite
def cases(draw, min_week_seconds=0):
    """(schedule, spec, start, end): a schedule, holidays near the span, a span of up to ten days."""
    zone, intervals = draw(schedule_specs())
    assume(sum(length for _, _, length in intervals) * 60 >= min_week_seconds)
    start = draw(instants(zone))
    end = minutes_after(start, draw(st.integers(0, 10 * 1440)))
    first_day = start.astimezone(UTC).date()
    holidays = {first_day + timedelta(days=n) for n in draw(st.sets(st.integers(-2, 12), max_size=4))}
    return build_schedule(zone, intervals, holidays), (zone, intervals, holidays), start, end


def minutes_after(moment: datetime, minutes: int) -> datetime:
    """Real minutes later, in the moment's own zone. ``moment + timedelta`` counts wall-clock minutes and
    drops ``fold``: one minute after the second 02:00 of a night the clocks go back is the first 02:01, an
    hour earlier."""
    return (moment.astimezone(UTC) + minutes * MINUTE).astimezone(moment.tzinfo)


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- properties --------------------------------------------------------------------------------------------


@PROPERTY
@given(cases())
def test_business_seconds_match_the_minute_by_minute_reference(case):
    schedule, spec, start, end = case
    assert business_seconds(schedule, start, end) == reference_seconds(*spec, start, end)


@PROPERTY
@given(cases(), st.lists(st.tuples(st.integers(0, 10 * 1440), st.integers(0, 2 * 1440)), max_size=3))
def test_pauses_are_subtracted_like_the_reference_does(case, raw_pauses):
    schedule, spec, start, end = case
    pauses = [(start + at * MINUTE, start + (at + length) * MINUTE) for at, length in raw_pauses]
    expected = reference_seconds(*spec, start, end, pauses)
    assert elapsed_business_seconds(schedule, start, end, pauses) == expected


@PROPERTY
@given(cases())
def test_deadline_for_the_business_time_of_a_span_lands_within_it(case):
    schedule, _, start, end = case
    seconds = business_seconds(schedule, start, end)
    deadline = add_business_seconds(schedule, start, seconds)
    # compare in UTC: within one zone, an aware datetime in the repeated hour (fold=1) compares by wall time
    assert deadline <= max(start.astimezone(UTC), end.astimezone(UTC))
    assert business_seconds(schedule, start, deadline) == seconds


@PROPERTY
@given(cases(min_week_seconds=60), st.integers(1, 5 * 24 * HOUR))
def test_deadline_is_the_first_instant_with_that_much_business_time(case, seconds):
    schedule, _, start, _ = case
    deadline = add_business_seconds(schedule, start, seconds)
    assert business_seconds(schedule, start, deadline) == seconds
    assert business_seconds(schedule, start, deadline - timedelta(seconds=1)) == seconds - 1


@PROPERTY
@given(cases(), st.integers(0, 10 * 1440), st.integers(0, 10 * 1440))
def test_business_time_adds_up_and_never_shrinks_as_the_end_moves_on(case, middle, later):
    schedule, _, start, end = case
    middle = minutes_after(start, middle)
    later = minutes_after(end, later)
    assert business_seconds(schedule, start, end) + business_seconds(schedule, end, later) == business_seconds(
        schedule, start, later
    )
    if middle.astimezone(UTC) <= end.astimezone(UTC):  # within one zone, aware datetimes compare by wall time
        assert business_seconds(schedule, start, middle) <= business_seconds(schedule, start, end)
    assert business_seconds(schedule, start, end) <= max(0, (end.astimezone(UTC) - start).total_seconds())


def test_business_time_adds_up_across_the_hour_repeated_when_clocks_go_back():
    """Found by the property above: Sydney's clocks went back at 03:00 on 7 April 2024, so 02:00 came twice."""
    sydney = ZoneInfo("Australia/Sydney")
    schedule = build_schedule("Australia/Sydney", [(0, 1320, 1), (5, 121, 1440)], set())
    second_two = datetime(2024, 4, 7, 2, 0, fold=1, tzinfo=sydney)  # standard time, an hour after the first
    end, later = minutes_after(second_two, 0), minutes_after(second_two, 1)
    assert (end, later.minute, later.fold) == (second_two, 1, 1)
    assert business_seconds(schedule, second_two, end) + business_seconds(schedule, end, later) == business_seconds(
        schedule, second_two, later
    )
    # From the first 02:00 to the second, an hour of real time: only the first 02:00–02:01 is working time
    # (the Saturday interval runs to Sunday 02:01 wall time), however the two ends are written.
    first_two = datetime(2024, 4, 7, 2, 0, fold=0, tzinfo=sydney)
    assert business_seconds(schedule, first_two, second_two) == 60
    assert business_seconds(schedule, first_two.astimezone(UTC), second_two.astimezone(UTC)) == 60


# --- business time by hand ---------------------------------------------------------------------------------


def london(*args):
    return datetime(*args, tzinfo=LONDON)


def istanbul(*args):
    return datetime(*args, tzinfo=ISTANBUL)


every_night = BusinessSchedule("Europe/London", {weekday: ["00:00-06:00"] for weekday in range(7)})
office = BusinessSchedule.weekdays("Europe/Istanbul", "08:00-18:00")


def test_a_24_7_day_is_23_hours_when_clocks_go_forward_and_25_when_they_go_back():
    schedule = BusinessSchedule.twenty_four_seven("Europe/London")
    assert business_seconds(schedule, london(2024, 3, 31), london(2024, 4, 1)) == 23 * HOUR
    assert business_seconds(schedule, london(2024, 10, 27), london(2024, 10, 28)) == 25 * HOUR


def test_00_to_06_holds_5_real_hours_when_clocks_go_forward_and_7_when_they_go_back():
    assert business_seconds(every_night, london(2024, 3, 31), london(2024, 4, 1)) == 5 * HOUR
    assert business_seconds(every_night, london(2024, 10, 27), london(2024, 10, 28)) == 7 * HOUR
    assert business_seconds(every_night, london(2024, 10, 28), london(2024, 10, 29)) == 6 * HOUR


def test_daytime_hours_are_10_hours_on_dst_days_too():
    schedule = BusinessSchedule("Europe/London", {weekday: ["08:00-18:00"] for weekday in range(7)})
    assert business_seconds(schedule, london(2024, 3, 31), london(2024, 4, 1)) == 10 * HOUR
    assert business_seconds(schedule, london(2024, 10, 27), london(2024, 10, 28)) == 10 * HOUR


def test_deadline_across_the_night_clocks_go_back_counts_the_repeated_hour():
    # 00:00-06:00 on 27 October 2024: after 01:59 BST comes 01:00 GMT, so 2 h of work end at 01:00 GMT.
    deadline = add_business_seconds(every_night, london(2024, 10, 27), 2 * HOUR)
    assert deadline == datetime(2024, 10, 27, 1, tzinfo=UTC)
    on_the_wall = deadline.astimezone(LONDON)
    assert (on_the_wall.hour, on_the_wall.fold) == (1, 1)  # the second 01:00


def test_an_overnight_interval_belongs_to_the_day_it_starts_on():
    night_shift = BusinessSchedule("Europe/Istanbul", {"fri": ["22:00-06:00"]})
    friday_evening, saturday_noon = istanbul(2025, 3, 7, 20), istanbul(2025, 3, 8, 12)
    assert business_seconds(night_shift, friday_evening, saturday_noon) == 8 * HOUR

    saturday_off = BusinessSchedule("Europe/Istanbul", {"fri": ["22:00-06:00"]}, holidays=["2025-03-08"])
    assert business_seconds(saturday_off, friday_evening, saturday_noon) == 8 * HOUR
    friday_off = BusinessSchedule("Europe/Istanbul", {"fri": ["22:00-06:00"]}, holidays=[date(2025, 3, 7)])
    assert business_seconds(friday_off, friday_evening, saturday_noon) == 0


def test_holidays_count_nothing_and_push_deadlines_on():
    # Wednesday 2025-04-23 is National Sovereignty and Children's Day.
    schedule = BusinessSchedule.weekdays("Europe/Istanbul", "08:00-18:00", holidays=["2025-04-23"])
    assert business_seconds(schedule, istanbul(2025, 4, 21, 8), istanbul(2025, 4, 26)) == 40 * HOUR
    assert add_business_seconds(schedule, istanbul(2025, 4, 22, 17), 2 * HOUR) == istanbul(2025, 4, 24, 9)


def test_deadline_over_a_weekend():
    assert add_business_seconds(office, istanbul(2025, 3, 7, 17), 3 * HOUR) == istanbul(2025, 3, 10, 10)
    assert add_business_seconds(office, istanbul(2025, 3, 8, 12), 0) == istanbul(2025, 3, 8, 12)


def test_times_in_other_zones_are_the_same_instants():
    start = istanbul(2025, 3, 10, 9)
    assert business_seconds(office, start.astimezone(UTC), start + timedelta(hours=2)) == 2 * HOUR


def test_overlapping_pauses_are_subtracted_once():
    pauses = [
        (istanbul(2025, 3, 10, 10), istanbul(2025, 3, 10, 12)),
        (istanbul(2025, 3, 10, 11), istanbul(2025, 3, 10, 13)),
    ]
    assert elapsed_business_seconds(office, istanbul(2025, 3, 10, 9), istanbul(2025, 3, 10, 17), pauses) == 5 * HOUR


def test_end_before_start_counts_nothing():
    assert business_seconds(office, istanbul(2025, 3, 10, 12), istanbul(2025, 3, 10, 9)) == 0


# --- validation --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("Mars/Olympus", {"mon": ["08:00-18:00"]}), "unknown time zone 'Mars/Olympus'"),
        (("UTC", {"funday": ["08:00-18:00"]}), "'funday' is not a weekday"),
        (("UTC", {0: ["8-18"]}), "'8' is not a time of day"),
        (("UTC", {0: ["08:00-25:00"]}), "'25:00' is not a time of day between 00:00 and 24:00"),
        (("UTC", {0: ["08:00-12:00", "11:00-13:00"]}), "overlap: Mon 08:00-12:00 and Mon 11:00-13:00"),
        (("UTC", {"fri": ["22:00-06:00"], "sat": ["05:00-09:00"]}), "overlap: Fri 22:00-06:00 and Sat 05:00-09:00"),
        (("UTC", {"sun": ["20:00-08:00"], "mon": ["07:00-09:00"]}), "overlap: Sun 20:00-08:00 and Mon 07:00-09:00"),
        (("UTC", {0: ["08:00-18:00"]}, [datetime(2025, 1, 1)]), "holidays are local dates"),
        (("UTC", {0: ["08:00-18:00"]}, ["first of May"]), "'first of May' is not a holiday date"),
    ],
)
def test_bad_schedules_are_refused_with_a_reason(arguments, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        BusinessSchedule(*arguments)


def test_touching_intervals_and_full_days_are_fine():
    schedule = BusinessSchedule(
        "UTC", {"mon": ["08:00-12:00", "12:00-18:00"], "tue": ["00:00-24:00"], "wed": "07:00-07:00"}
    )
    assert schedule.week_seconds == (10 + 24 + 24) * HOUR


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="start must be time-zone aware"):
        business_seconds(office, datetime(2025, 3, 10, 9), istanbul(2025, 3, 10, 12))


def test_a_schedule_without_working_time_has_no_deadline():
    with pytest.raises(ValueError, match="no working time"):
        add_business_seconds(BusinessSchedule("UTC", {}), istanbul(2025, 3, 10), 60)


# --- SLA definitions and verdicts --------------------------------------------------------------------------


def resolution_sla(target_hours=8, **options):
    return SlaDefinition(
        name="P2 resolution",
        target="resolution",
        target_seconds=target_hours * HOUR,
        schedule=office,
        pause_states={"on_hold", "waiting_for_caller"},
        **options,
    )


def test_definitions_match_on_their_filters_and_none_means_any():
    sla = resolution_sla(kinds={"incident"}, priorities={1, 2}, group_ids={7})
    assert sla.matches(Facts(kind="incident", priority=2, service_id=3, group_id=7))
    assert not sla.matches(Facts(kind="request", priority=2, group_id=7))
    assert not sla.matches(Facts(kind="incident", priority=4, group_id=7))
    assert not sla.matches(Facts(kind="incident", priority=1, group_id=8))


def test_a_state_cannot_both_pause_and_stop_the_clock():
    with pytest.raises(ValueError, match="both pause and stop the clock: resolved"):
        SlaDefinition("Odd", "resolution", HOUR, office, pause_states={"resolved"}, stop_states={"resolved"})


def test_on_hold_pauses_the_clock_and_moves_the_deadline():
    timeline = Timeline(
        opened_at=istanbul(2025, 3, 10, 16),  # Monday
        states=[(istanbul(2025, 3, 11, 9), "on_hold"), (istanbul(2025, 3, 11, 11), "in_progress")],
        resolved_at=istanbul(2025, 3, 11, 15),
    )
    result = evaluate(resolution_sla(), timeline)
    assert result.elapsed_seconds == 7 * HOUR  # Mon 16-18, Tue 08-09 and 11-15
    assert result.paused_seconds == 2 * HOUR
    assert result.percent_used == 87.5
    assert (result.met, result.breached) == (True, False)
    assert result.deadline == istanbul(2025, 3, 11, 16)
    assert result.stopped_at == istanbul(2025, 3, 11, 15)


def test_reopening_continues_or_restarts_the_clock():
    timeline = Timeline(
        opened_at=istanbul(2025, 3, 10, 9),
        states=[
            (istanbul(2025, 3, 10, 12), "resolved"),
            (istanbul(2025, 3, 11, 9), "in_progress"),  # the caller reopens it next morning
            (istanbul(2025, 3, 11, 11), "resolved"),
        ],
    )
    continued = evaluate(resolution_sla(target_hours=4, on_reopen="continue"), timeline)
    assert continued.elapsed_seconds == 5 * HOUR  # the night it sat resolved does not count
    assert (continued.met, continued.breached) == (False, True)
    assert continued.deadline == istanbul(2025, 3, 11, 10)

    restarted = evaluate(resolution_sla(target_hours=4, on_reopen="restart"), timeline)
    assert restarted.elapsed_seconds == 2 * HOUR
    assert restarted.started_at == istanbul(2025, 3, 11, 9)
    assert restarted.met is True
    assert restarted.deadline == istanbul(2025, 3, 11, 13)


def test_a_running_ticket_has_no_verdict_until_it_breaches():
    opened = istanbul(2025, 3, 10, 9)
    running = evaluate(resolution_sla(target_hours=4), Timeline(opened_at=opened, now=istanbul(2025, 3, 10, 11)))
    assert (running.met, running.breached, running.running) == (None, False, True)
    assert running.percent_used == 50.0
    assert running.deadline == istanbul(2025, 3, 10, 13)

    late = evaluate(resolution_sla(target_hours=4), Timeline(opened_at=opened, now=istanbul(2025, 3, 10, 15)))
    assert (late.met, late.breached, late.percent_used) == (False, True, 150.0)


def test_a_paused_ticket_projects_its_deadline_from_now():
    timeline = Timeline(
        opened_at=istanbul(2025, 3, 10, 9),
        states=[(istanbul(2025, 3, 10, 10), "waiting_for_caller")],
        now=istanbul(2025, 3, 10, 15),
    )
    result = evaluate(resolution_sla(target_hours=4), timeline)
    assert (result.elapsed_seconds, result.paused_seconds) == (1 * HOUR, 5 * HOUR)
    assert result.deadline == istanbul(2025, 3, 10, 18)  # 3 h left, as if work resumed now


def test_resolved_at_is_the_last_word_on_resolution():
    timeline = Timeline(
        opened_at=istanbul(2025, 3, 10, 9),
        states=[(istanbul(2025, 3, 10, 12), "in_progress"), (istanbul(2025, 3, 10, 15), "on_hold")],
        resolved_at=istanbul(2025, 3, 10, 14),
    )
    assert evaluate(resolution_sla(), timeline).elapsed_seconds == 5 * HOUR


def test_response_clock_stops_at_the_first_response_or_else_the_resolution():
    response = SlaDefinition(name="P2 response", target="response", target_seconds=HOUR, schedule=office)
    opened = istanbul(2025, 3, 7, 17, 30)  # Friday
    answered = evaluate(response, Timeline(opened_at=opened, first_response_at=istanbul(2025, 3, 10, 8, 20)))
    assert (answered.elapsed_seconds, answered.met) == (50 * 60, True)
    assert answered.deadline == istanbul(2025, 3, 10, 8, 30)

    silent = evaluate(response, Timeline(opened_at=opened, resolved_at=istanbul(2025, 3, 10, 10)))
    assert (silent.elapsed_seconds, silent.met) == (150 * 60, False)


def test_an_open_ticket_needs_now():
    with pytest.raises(ValueError, match="pass the timeline's now"):
        evaluate(resolution_sla(), Timeline(opened_at=istanbul(2025, 3, 10, 9)))


def test_compliance_counts_decided_results_only():
    opened = istanbul(2025, 3, 10, 9)
    met = evaluate(resolution_sla(4), Timeline(opened_at=opened, resolved_at=istanbul(2025, 3, 10, 10)))
    breached = evaluate(resolution_sla(4), Timeline(opened_at=opened, resolved_at=istanbul(2025, 3, 11, 10)))
    running = evaluate(resolution_sla(4), Timeline(opened_at=opened, now=istanbul(2025, 3, 10, 10)))
    assert compliance([met, breached, running]) == 50.0
    assert compliance([running]) is None
    assert compliance([]) is None


def test_disagreements_with_the_source_verdict_are_listed():
    verdicts = {"INC1": (True, True), "INC2": (True, False), "INC3": (False, True), "INC4": (None, False)}
    assert verdict_disagreements(verdicts) == [Disagreement("INC2", True, False), Disagreement("INC3", False, True)]
