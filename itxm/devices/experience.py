"""Devices meet experience: survey answers and lost time joined with device health (docs/devices.md,
"Devices meet experience").

An answer belongs to a person (the invitation's employee); a person's devices are those whose primary
user they are. For each answer of the period:

* its **health** is the mean daily health score of the person's devices over the ``WINDOW_DAYS`` days
  before the day it was given (that day left out: its score covers hours after the answer), and its
  **band** follows from that mean (``BANDS``); an answer with no scored day in the window has no band;
* it counts under each device model and OS build the person uses (once per model or build).

Per model, OS build and band: people and answers, happiness (``metrics.happiness``, with its interval;
judged only from ``ITXM_MIN_ANSWERS`` answers), the mean score, the lost time people reported per
answer, and beside it the lost time the telemetry measured (``DeviceHealth.lost_minutes``) per device
and week: over all the model's or build's devices in the period, and over the answer windows for bands.

Per person, a combined **experience score** (0–100): technology = the mean daily health of their devices
over the period; sentiment = 10 × the mean score of their answers in the period (all of them: a person's
own answers are not a sample, so the minimum number of answers does not apply). The score is
``w × technology + (1 − w) × sentiment`` with ``w = ITXM_EXPERIENCE_TECHNOLOGY_WEIGHT / 100`` (0.5 by
default); with only one of the two it is that one, flagged ``partial``.

Scope: people are shown only to unrestricted readers (``Employee.scope_fields``), devices too
(``Device.scope_fields``), so suppliers and service owners get nothing here; names only to readers who
may see people (``Permission.VIEW_PEOPLE``), others get the person's id.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.conf import settings
from django.db.models import Count, Max, Sum

from itxm.analytics import metrics
from itxm.analytics.periods import Period, day_start
from itxm.devices import services
from itxm.devices.models import Device, DeviceHealth
from itxm.org.models import Employee
from itxm.org.scopes import Permission, Scope
from itxm.surveys.models import Response

WINDOW_DAYS = 7
# (key, lowest score, highest score excluded): good ≥ 80, fair 50 to under 80, poor under 50.
BANDS = (("good", 80.0, None), ("fair", 50.0, 80.0), ("poor", None, 50.0))
BAND_KEYS = tuple(key for key, _low, _high in BANDS)
DIMENSIONS = ("model", "os_build", "band")


@dataclass(frozen=True)
class Filters:
    """What narrows the answers: the ticket's service or group, the survey kind."""

    service: int | None = None
    group: int | None = None
    kind: str = ""


@dataclass(frozen=True)
class GroupExperience:
    """The answers and health of one device model, OS build or health band."""

    key: str
    people: int
    answers: int
    happiness: float | None
    happiness_low: float | None
    happiness_high: float | None
    judged: bool  # enough answers (ITXM_MIN_ANSWERS) for a verdict
    mean_score: float | None
    reported_lost_per_answer: float | None  # minutes people reported, per answer that said
    devices: int  # devices with a health score behind the figures below
    health: float | None  # mean daily health score
    measured_lost_per_week: float | None  # minutes per device and week, from the telemetry


@dataclass(frozen=True)
class PersonExperience:
    person_id: int
    name: str | None  # only for readers who may see people
    external_id: str | None  # idem
    devices: int
    models: str
    technology: float | None
    sentiment: float | None
    answers: int
    score: float | None
    partial: bool
    band: str  # of the technology score; "" without one
    measured_lost_per_week: float | None
    reported_lost_minutes: float | None  # the period's total, from the answers that said
    reported_lost_per_week: float | None


@dataclass(frozen=True)
class Experience:
    period: Period
    technology_weight: float
    min_answers: int
    answers: int
    answers_with_band: int
    by_model: list[GroupExperience]
    by_os_build: list[GroupExperience]
    by_band: list[GroupExperience]
    people: list[PersonExperience]

    def groups(self, dimension: str) -> list[GroupExperience]:
        return {"model": self.by_model, "os_build": self.by_os_build, "band": self.by_band}[dimension]


# --- reads, each inside the reader's scope -------------------------------------------------------------


def _answers(scope: Scope, period: Period, filters: Filters) -> list[tuple[int, date, int, int | None]]:
    """(person id, UTC day, score, reported lost minutes) of the answers of visible people in the period."""
    people = scope.apply(Employee.objects.all()).values("pk")
    qs = scope.apply(
        Response.objects.filter(
            invitation__employee_id__in=people,
            answered_at__gte=day_start(period.start),
            answered_at__lt=day_start(period.end),
        )
    )
    if filters.service is not None:
        qs = qs.filter(invitation__ticket__service_id=filters.service)
    if filters.group is not None:
        qs = qs.filter(invitation__ticket__group_id=filters.group)
    if filters.kind:
        qs = qs.filter(invitation__kind=filters.kind)
    rows = qs.order_by().values_list("invitation__employee_id", "answered_at", "score", "lost_minutes")
    return [(person, at.astimezone(UTC).date(), score, lost) for person, at, score, lost in rows]


def _devices(scope: Scope) -> list[tuple[int, int | None, str, str]]:
    """(device id, primary user id or None, model, OS build) of every visible device; the user only when
    that person is visible too."""
    people = scope.apply(Employee.objects.all()).values("pk")
    visible_people = set(people.values_list("pk", flat=True))
    rows = scope.apply(Device.objects.all()).order_by().values_list("pk", "primary_user_id", "model", "os_build")
    return [(pk, user if user in visible_people else None, model, build) for pk, user, model, build in rows]


def _health_by_device(scope: Scope, period: Period) -> dict[int, tuple[float, float, int]]:
    """device id → (sum of daily scores, sum of lost minutes, scored days) over the period."""
    qs = scope.apply(DeviceHealth.objects.filter(day__gte=period.start, day__lt=period.end))
    rows = qs.order_by().values("device_id").annotate(score=Sum("score"), lost=Sum("lost_minutes"), days=Count("id"))
    return {row["device_id"]: (row["score"], row["lost"] or 0.0, row["days"]) for row in rows}


def _daily_health(scope: Scope, device_ids, start: date, end: date) -> list[tuple[int, date, float, float]]:
    """(device id, day, score, lost minutes) of some devices over the days [start, end)."""
    qs = scope.apply(DeviceHealth.objects.filter(device_id__in=list(device_ids), day__gte=start, day__lt=end))
    return list(qs.order_by().values_list("device_id", "day", "score", "lost_minutes"))


def _names(person_ids) -> dict[int, tuple[str, str]]:
    rows = Employee.objects.filter(pk__in=list(person_ids)).values_list("pk", "name", "external_id")
    return {pk: (name, external_id) for pk, name, external_id in rows}


# --- the arithmetic ------------------------------------------------------------------------------------


def band_of(score: float | None) -> str:
    """ "good" (≥ 80), "fair" (50 to under 80), "poor" (under 50); "" for no score."""
    if score is None:
        return ""
    for key, low, high in BANDS:
        if (low is None or score >= low) and (high is None or score < high):
            return key
    return ""


def combined_score(technology: float | None, sentiment: float | None, weight: float) -> tuple[float | None, bool]:
    """(experience score, partial): the weighted mean of both, or the one there is (partial)."""
    if technology is None and sentiment is None:
        return None, False
    if technology is None:
        return round(sentiment, 1), True
    if sentiment is None:
        return round(technology, 1), True
    return round(weight * technology + (1 - weight) * sentiment, 1), False


def technology_weight() -> float:
    return min(max(settings.EXPERIENCE_TECHNOLOGY_WEIGHT, 0), 100) / 100


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


class _Tally:
    """What one model, build or band collects from its answers."""

    def __init__(self):
        self.people: set[int] = set()
        self.scores: list[int] = []
        self.lost: list[int] = []
        self.devices: set[int] = set()
        self.score_sum = self.lost_sum = 0.0
        self.days = 0

    def answer(self, person: int, score: int, lost: int | None) -> None:
        self.people.add(person)
        self.scores.append(score)
        if lost is not None:
            self.lost.append(lost)

    def health(self, device: int, score_sum: float, lost_sum: float, days: int) -> None:
        self.devices.add(device)
        self.score_sum += score_sum
        self.lost_sum += lost_sum
        self.days += days


def _groups(tallies: dict[str, _Tally], min_answers: int, order: tuple[str, ...] | None = None) -> list:
    keys = list(order) if order is not None else sorted(tallies)
    counts = []
    for key in keys:
        scores = tallies[key].scores if key in tallies else []
        counts.append((sum(s >= 9 for s in scores), sum(s <= 6 for s in scores), len(scores)))
    intervals = metrics.happiness_intervals(counts)
    found = []
    for key, interval in zip(keys, intervals, strict=True):
        tally = tallies.get(key) or _Tally()
        answers = len(tally.scores)
        found.append(
            GroupExperience(
                key=key, people=len(tally.people), answers=answers, happiness=metrics.happiness(tally.scores),
                happiness_low=interval.low if interval else None, happiness_high=interval.high if interval else None,
                judged=answers >= min_answers, mean_score=metrics.ratio(sum(tally.scores), answers, 2),
                reported_lost_per_answer=metrics.ratio(sum(tally.lost), len(tally.lost)),
                devices=len(tally.devices), health=metrics.ratio(tally.score_sum, tally.days),
                measured_lost_per_week=metrics.ratio(7 * tally.lost_sum, tally.days),
            )
        )  # fmt: skip
    return found


def experience(scope: Scope, period: Period, filters: Filters = Filters()) -> Experience:
    """Answers and lost time joined with device health, per model, OS build, health band and person.
    Kept per process (``services._remembered``) until device health or the answers change."""
    key = ("experience", scope.group_ids, scope.service_ids, scope.allows(Permission.VIEW_PEOPLE), period, filters,
           _answers_version())  # fmt: skip
    return services._remembered(key, lambda: _experience(scope, period, filters))


def _answers_version() -> tuple:
    """Moves whenever an answer or a person is written (new rows get new ids; a changed answer its time)."""
    return (
        *Response.objects.aggregate(last=Max("id"), changed=Max("updated_at"), rows=Count("id")).values(),
        *Employee.objects.aggregate(last=Max("id"), rows=Count("id")).values(),
    )


def _experience(scope: Scope, period: Period, filters: Filters) -> Experience:
    min_answers, weight = settings.ANALYTICS_MIN_ANSWERS, technology_weight()
    answers = _answers(scope, period, filters)
    devices = _devices(scope)
    devices_of: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for device_id, person, model, build in devices:
        if person is not None:
            devices_of[person].append((device_id, model, build))
    health = _health_by_device(scope, period)

    # Models and builds: the answers of their users; the health of all their devices.
    by_model: dict[str, _Tally] = defaultdict(_Tally)
    by_build: dict[str, _Tally] = defaultdict(_Tally)
    for device_id, _person, model, build in devices:
        if device_id in health:
            by_model[model].health(device_id, *health[device_id])
            by_build[build].health(device_id, *health[device_id])
    for person, _day, score, lost in answers:
        for model in {model for _id, model, _build in devices_of.get(person, [])}:
            by_model[model].answer(person, score, lost)
        for build in {build for _id, _model, build in devices_of.get(person, [])}:
            by_build[build].answer(person, score, lost)

    # Bands: each answer's health over the days before it.
    answering = {person for person, *_rest in answers}
    window_devices = {device_id: person for person in answering for device_id, _m, _b in devices_of.get(person, [])}
    daily: dict[int, dict[date, list[tuple[int, float, float]]]] = defaultdict(lambda: defaultdict(list))
    for device_id, day, score, lost in _daily_health(
        scope, window_devices, period.start - timedelta(days=WINDOW_DAYS), period.end
    ):
        daily[window_devices[device_id]][day].append((device_id, score, lost))
    by_band: dict[str, _Tally] = defaultdict(_Tally)
    with_band = 0
    for person, day, score, lost in answers:
        window = [row for n in range(1, WINDOW_DAYS + 1) for row in daily[person].get(day - timedelta(days=n), [])]
        if not window:
            continue
        mean = sum(row[1] for row in window) / len(window)
        tally = by_band[band_of(mean)]
        tally.answer(person, score, lost)
        for device_id, device_score, device_lost in window:
            tally.health(device_id, device_score, device_lost, 1)
        with_band += 1

    people = _people(scope, period, answers, devices_of, health, weight)
    return Experience(
        period=period, technology_weight=weight, min_answers=min_answers, answers=len(answers),
        answers_with_band=with_band,
        by_model=sorted(_groups(by_model, min_answers), key=_worst_first),
        by_os_build=sorted(_groups(by_build, min_answers), key=_worst_first),
        by_band=_groups(by_band, min_answers, BAND_KEYS),
        people=people,
    )  # fmt: skip


def _worst_first(group: GroupExperience) -> tuple:
    return (group.health is None, group.health or 0.0, group.key)


def _people(scope, period, answers, devices_of, health, weight) -> list[PersonExperience]:
    said: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for person, _day, score, lost in answers:
        said[person].append((score, lost))
    weeks = period.days / 7
    visible_names = scope.allows(Permission.VIEW_PEOPLE)
    persons = set(said) | set(devices_of)
    names = _names(persons) if visible_names else {}
    found = []
    for person in persons:
        mine = devices_of.get(person, [])
        score_sum = lost_sum = 0.0
        days = 0
        for device_id, _model, _build in mine:
            if device_id in health:
                device_score, device_lost, device_days = health[device_id]
                score_sum, lost_sum, days = score_sum + device_score, lost_sum + device_lost, days + device_days
        technology = score_sum / days if days else None
        mine_said = said.get(person, [])
        sentiment = 10 * sum(score for score, _lost in mine_said) / len(mine_said) if mine_said else None
        if technology is None and sentiment is None:
            continue  # devices without a score and no answer: nothing to say about this person
        combined, partial = combined_score(technology, sentiment, weight)
        reported = [lost for _score, lost in mine_said if lost is not None]
        name, external_id = names.get(person, (None, None))
        found.append(
            PersonExperience(
                person_id=person, name=name, external_id=external_id, devices=len(mine),
                models=", ".join(sorted({model for _id, model, _build in mine if model})),
                technology=_round(technology), sentiment=_round(sentiment), answers=len(mine_said),
                score=combined, partial=partial, band=band_of(technology),
                measured_lost_per_week=_round(7 * lost_sum / days) if days else None,
                reported_lost_minutes=float(sum(reported)) if reported else None,
                reported_lost_per_week=_round(sum(reported) / weeks) if reported else None,
            )
        )  # fmt: skip
    found.sort(key=lambda p: (p.score is None, p.score if p.score is not None else 0.0, p.person_id))
    return found
