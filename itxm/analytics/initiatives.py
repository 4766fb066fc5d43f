"""Improvement initiatives: what was changed, for which scope, and whether the target metric moved.

The effect compares the initiative's scope in two windows of the same length: the days before the start
and the days from it. Rates are tested as two proportions (z-test, Newcombe interval of the difference),
means with Welch's t-test, happiness by resampling (it is % 9-10 minus % 0-6 of the answers, so it is
resampled from the counts of the three answer groups). Other initiatives on an overlapping scope that
start within the windows are listed: the change may not be this initiative's alone.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from itxm.analytics import coverage, facts, queries
from itxm.analytics.metrics import Interval
from itxm.analytics.models import Initiative, InitiativeStatus
from itxm.analytics.remembered import remembered
from itxm.analytics.services import AnalyticsError, labels
from itxm.org.models import User
from itxm.org.scopes import EVERYTHING, Permission, Scope

PROPORTION, MEAN, HAPPINESS = "proportion", "mean", "happiness"
IMPROVED, WORSENED, NO_CLEAR_CHANGE = "improved", "worsened", "no_clear_change"
MIN_PER_SIDE = 30
MAX_AFTER_DAYS = 180
SIGNIFICANCE = 0.05
RESAMPLES = 10_000
SEED = 0


@dataclass(frozen=True)
class MetricRule:
    label: str  # lazy: translated when shown
    source: str  # TICKETS or ANSWERS
    by: str  # the day that puts a fact in a window
    column: str
    known: str  # facts where this column is empty do not count
    test: str
    lower_is_better: bool
    unit: str
    value: Callable[[np.ndarray], np.ndarray] = lambda values: values


TICKETS, ANSWERS = "tickets", "answers"
METRICS = {
    # The change reaches the tickets opened after it starts, so reopenings are counted by opening day.
    "reopen_rate": MetricRule(
        gettext_lazy("Reopen rate"), TICKETS, "opened_day", "reopens", "resolved_day", PROPORTION, True, "%",
        lambda v: v > 0,
    ),
    "sla_compliance": MetricRule(
        gettext_lazy("SLA compliance"), TICKETS, "resolved_day", "sla_met", "sla_met", PROPORTION, False, "%"
    ),
    "reassignment_rate": MetricRule(
        gettext_lazy("Reassignment rate"), TICKETS, "resolved_day", "reassignments", "resolved_day", PROPORTION, True,
        "%", lambda v: v > 0,
    ),
    "resolution_hours": MetricRule(
        gettext_lazy("Mean resolution time"), TICKETS, "resolved_day", "resolution_seconds", "resolution_seconds",
        MEAN, True, "h", lambda v: v / 3600,
    ),
    "happiness": MetricRule(gettext_lazy("Happiness"), ANSWERS, "answered_day", "score", "score", HAPPINESS, False, ""),
    "average_score": MetricRule(
        gettext_lazy("Average score"), ANSWERS, "answered_day", "score", "score", MEAN, False, "/10"
    ),
    "lost_minutes": MetricRule(
        gettext_lazy("Time lost per answer"), ANSWERS, "answered_day", "lost_minutes", "lost_minutes", MEAN, True,
        "min",
    ),
}  # fmt: skip


class InvalidInitiative(AnalyticsError):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class InitiativeSpec:
    title: str
    metric: str
    starts_on: date
    dimension: str = "all"
    member: str = ""
    owner: str = ""
    owner_user_id: int | None = None
    status: str = InitiativeStatus.ACTIVE
    you_said: str = ""
    we_did: str = ""
    public: bool = False


@dataclass(frozen=True)
class InitiativeOut:
    id: int
    title: str
    owner: str
    owner_user_id: int | None
    dimension: str
    member: str
    scope_label: str
    metric: str
    starts_on: date
    status: str
    you_said: str
    we_did: str
    public: bool


@dataclass(frozen=True)
class Overlap:
    initiative_id: int
    title: str
    starts_on: date
    scope_label: str


@dataclass(frozen=True)
class Effect:
    initiative_id: int
    metric: str
    lower_is_better: bool
    before_start: date
    before_end: date  # excluded; the start date
    after_start: date
    after_end: date  # excluded
    n_before: int
    n_after: int
    value_before: float | None
    value_after: float | None
    difference: float | None  # after − before, in the metric's unit (percentage points for rates)
    interval: Interval | None  # 95 % interval of the difference
    p_value: float | None
    significant: bool
    direction: str
    overlaps: tuple[Overlap, ...] = ()
    note: str | None = None
    reason: str | None = None  # why there is no test


@dataclass(frozen=True)
class PublicInitiative:
    title: str
    owner: str
    scope_label: str
    you_said: str
    we_did: str
    starts_on: date
    status: str
    metric: str
    value_before: float | None
    value_after: float | None
    direction: str | None
    effect: str | None  # in plain words, e.g. "Reopen rate: 14.4 % → 5.3 % (improved)"


# --- definitions ----------------------------------------------------------------------------------


def _validated(scope: Scope, spec: InitiativeSpec) -> tuple[str, set[int], set[int]]:
    scope.require(Permission.MANAGE_IMPROVEMENT)
    if not spec.title.strip():
        raise InvalidInitiative("an initiative has a title", "title")
    if spec.metric not in METRICS:
        raise InvalidInitiative(f"unknown metric {spec.metric!r}; one of {', '.join(METRICS)}", "metric")
    if spec.status not in InitiativeStatus.values:
        raise InvalidInitiative(f"status is one of {', '.join(InitiativeStatus.values)}", "status")
    if not isinstance(spec.starts_on, date):
        raise InvalidInitiative("the start date is a date", "starts_on")
    if spec.owner_user_id is not None and not User.objects.filter(pk=spec.owner_user_id).exists():
        raise InvalidInitiative(f"no user with id {spec.owner_user_id}", "owner_user_id")
    try:
        member = coverage.check_member(spec.dimension, spec.member)
    except coverage.InvalidScope as error:
        raise InvalidInitiative(
            str(error), "dimension" if spec.dimension not in facts.DIMENSIONS else "member"
        ) from None
    groups, services = coverage.check_within(scope, spec.dimension, member)
    return member, groups, services


def _save(initiative: Initiative, spec: InitiativeSpec, member: str, groups, services) -> Initiative:
    initiative.title, initiative.owner = spec.title.strip()[:200], spec.owner.strip()[:200]
    initiative.owner_user_id = spec.owner_user_id
    initiative.dimension, initiative.member, initiative.metric = spec.dimension, member, spec.metric
    initiative.starts_on, initiative.status, initiative.public = spec.starts_on, spec.status, spec.public
    initiative.you_said, initiative.we_did = spec.you_said, spec.we_did
    initiative.save()
    initiative.groups.set(groups)
    initiative.services.set(services)
    return initiative


@transaction.atomic
def create_initiative(scope: Scope, spec: InitiativeSpec) -> InitiativeOut:
    return _out(scope, _save(Initiative(), spec, *_validated(scope, spec)))


@transaction.atomic
def update_initiative(scope: Scope, pk: int, spec: InitiativeSpec) -> InitiativeOut:
    initiative = _editable(scope, pk)
    return _out(scope, _save(initiative, spec, *_validated(scope, spec)))


def delete_initiative(scope: Scope, pk: int) -> None:
    """Gone for good; to keep an initiative on record but out of the public list, cancel it instead."""
    _editable(scope, pk).delete()


def _editable(scope: Scope, pk: int) -> Initiative:
    scope.require(Permission.MANAGE_IMPROVEMENT)
    initiative = scope.get(Initiative.objects.all(), pk)
    coverage.check_within(scope, initiative.dimension, initiative.member)
    return initiative


def list_initiatives(scope: Scope) -> list[InitiativeOut]:
    initiatives = list(scope.apply(Initiative.objects.all()))
    names = _scope_labels(scope, initiatives)
    return [_out(scope, initiative, names) for initiative in initiatives]


def get_initiative(scope: Scope, pk: int) -> InitiativeOut:
    return _out(scope, scope.get(Initiative.objects.all(), pk))


def _out(scope: Scope, initiative: Initiative, names: dict | None = None) -> InitiativeOut:
    names = _scope_labels(scope, [initiative]) if names is None else names
    return InitiativeOut(
        id=initiative.pk, title=initiative.title, owner=initiative.owner, owner_user_id=initiative.owner_user_id,
        dimension=initiative.dimension, member=initiative.member,
        scope_label=names[initiative.dimension, initiative.member], metric=initiative.metric,
        starts_on=initiative.starts_on, status=initiative.status, you_said=initiative.you_said,
        we_did=initiative.we_did, public=initiative.public,
    )  # fmt: skip


def _scope_labels(scope: Scope | None, initiatives: list[Initiative]) -> dict[tuple[str, str], str]:
    """What each initiative is about, for people to read. Agents are people: their names only for readers
    allowed to see people, their codes for other readers, and no one's on the public page (scope None)."""
    found = {}
    for dimension in {initiative.dimension for initiative in initiatives}:
        members = {initiative.member for initiative in initiatives if initiative.dimension == dimension}
        names = labels(dimension, members)
        for member in members:
            name, code = names.get(member, (member, member))
            if dimension == "all":
                name = _("Everyone")
            elif dimension == "agent":
                name = _("One agent") if scope is None else name if scope.allows(Permission.VIEW_PEOPLE) else code
            found[dimension, member] = name
    return found


# --- effect ---------------------------------------------------------------------------------------


def measure_effect(scope: Scope, pk: int, before_days: int | None = None, after_end: date | None = None) -> Effect:
    """The target metric before and from the start date. The after window runs from the start to
    ``after_end`` (excluded; by default the day after the last data, at most ``MAX_AFTER_DAYS``), the
    before window has the same length (or ``before_days``) and ends on the start date."""
    facts.catch_up()
    initiative = scope.get(Initiative.objects.all(), pk)
    return _effect(scope, initiative, before_days, after_end)


def _effect(scope: Scope, initiative: Initiative, before_days: int | None, after_end: date | None) -> Effect:
    rule = METRICS[initiative.metric]
    starts = initiative.starts_on
    after_end = after_end or _default_after_end(scope, rule, starts)
    if after_end <= starts:
        return _not_started(initiative, rule)
    if before_days is not None and before_days <= 0:
        raise InvalidInitiative("the before window has at least one day", "before_days")
    before_start = starts - timedelta(days=before_days or (after_end - starts).days)
    before = _values(scope, initiative, rule, before_start, starts)
    after = _values(scope, initiative, rule, starts, after_end)
    overlaps = _overlaps(scope, initiative, rule, before_start, after_end)
    found = _compare(rule, before, after)
    return Effect(
        initiative_id=initiative.pk, metric=initiative.metric, lower_is_better=rule.lower_is_better,
        before_start=before_start, before_end=starts, after_start=starts, after_end=after_end,
        n_before=len(before), n_after=len(after), **found, overlaps=overlaps,
        note=_("Other initiatives overlap; the effect may not be this one's alone.") if overlaps else None,
    )  # fmt: skip


def _default_after_end(scope: Scope, rule: MetricRule, starts: date) -> date:
    last_day = _facts(scope, rule, date.min, date.max, "all", None).aggregate(last=Max(rule.by))["last"]
    today = timezone.now().date()
    last_day = min(last_day or today, today)
    return min(last_day + timedelta(days=1), starts + timedelta(days=MAX_AFTER_DAYS))


def _not_started(initiative: Initiative, rule: MetricRule) -> Effect:
    starts = initiative.starts_on
    return Effect(
        initiative_id=initiative.pk, metric=initiative.metric, lower_is_better=rule.lower_is_better,
        before_start=starts, before_end=starts, after_start=starts, after_end=starts, n_before=0, n_after=0,
        value_before=None, value_after=None, difference=None, interval=None, p_value=None, significant=False,
        direction=NO_CLEAR_CHANGE, reason=_("There are no data from the start date yet."),
    )  # fmt: skip


def _facts(scope: Scope, rule: MetricRule, start: date, end: date, dimension: str, member: str | None,
           filters: dict | None = None) -> QuerySet:  # fmt: skip
    read = queries.tickets if rule.source == TICKETS else queries.answers
    extra = {"by": rule.by} if rule.source == TICKETS else {}
    qs = read(scope, start, end, dimension, member, filters or {}, **extra)
    return qs.filter(**{f"{rule.known}__isnull": False})


def _values(scope: Scope, initiative: Initiative, rule: MetricRule, start: date, end: date) -> np.ndarray:
    qs = _facts(scope, rule, start, end, initiative.dimension, initiative.member or None)
    values = np.fromiter(qs.values_list(rule.column, flat=True), dtype=float)
    return rule.value(values).astype(float)


def _compare(rule: MetricRule, before: np.ndarray, after: np.ndarray) -> dict:
    value_before, value_after = _summary(rule, before), _summary(rule, after)
    difference = None if value_before is None or value_after is None else round(value_after - value_before, 2)
    unmeasured = {"value_before": value_before, "value_after": value_after, "difference": difference,
                  "interval": None, "p_value": None, "significant": False, "direction": NO_CLEAR_CHANGE}  # fmt: skip
    if min(len(before), len(after)) < MIN_PER_SIDE:
        reason = _("Too few data to judge: %(before)d before and %(after)d after, at least %(minimum)d each.")
        return unmeasured | {"reason": reason % {"before": len(before), "after": len(after), "minimum": MIN_PER_SIDE}}
    tests = {PROPORTION: _proportion_test, MEAN: _welch_test, HAPPINESS: _happiness_test}
    low, high, p_value = tests[rule.test](before, after)
    significant = p_value < SIGNIFICANCE
    return unmeasured | {
        "interval": Interval(round(float(low), 2), round(float(high), 2)),
        "p_value": p_value,
        "significant": significant,
        "direction": _direction(rule, difference, significant),
    }


def _summary(rule: MetricRule, values: np.ndarray) -> float | None:
    if len(values) == 0:
        return None
    if rule.test == HAPPINESS:
        return round(100 * float(np.mean(_happiness_points(values))), 2)
    return round(float(np.mean(values)) * (100 if rule.test == PROPORTION else 1), 2)


def _direction(rule: MetricRule, difference: float, significant: bool) -> str:
    if not significant or difference == 0:
        return NO_CLEAR_CHANGE
    return IMPROVED if (difference < 0) == rule.lower_is_better else WORSENED


def _proportion_test(before: np.ndarray, after: np.ndarray) -> tuple[float, float, float]:
    """Interval of the difference in percentage points (Newcombe) and the two-proportion z-test."""
    counts, sizes = [int(after.sum()), int(before.sum())], [len(after), len(before)]
    low, high = confint_proportions_2indep(counts[0], sizes[0], counts[1], sizes[1], method="newcomb")
    if sum(counts) in (0, sum(sizes)):  # all or none on both sides: nothing varies, nothing changed
        return 100 * low, 100 * high, 1.0
    _statistic, p_value = proportions_ztest(counts, sizes)
    return 100 * low, 100 * high, float(p_value)


def _welch_test(before: np.ndarray, after: np.ndarray) -> tuple[float, float, float]:
    result = stats.ttest_ind(after, before, equal_var=False)
    if math.isnan(result.pvalue):  # no spread on either side
        difference = float(after.mean() - before.mean())
        return difference, difference, 1.0 if difference == 0 else 0.0
    interval = result.confidence_interval(0.95)
    return float(interval.low), float(interval.high), float(result.pvalue)


def _happiness_points(scores: np.ndarray) -> np.ndarray:
    return np.where(scores >= 9, 1, np.where(scores <= 6, -1, 0))


def _happiness_test(before: np.ndarray, after: np.ndarray) -> tuple[float, float, float]:
    """Bootstrap interval and permutation p-value. Happiness depends only on how many answers fall in each
    of the three groups, so a bootstrap sample is a multinomial draw of those counts and a permutation a
    hypergeometric split of the pooled counts: the same distributions, without shuffling every answer."""
    rng = np.random.default_rng(SEED)
    counts_before, counts_after = _group_counts(before), _group_counts(after)
    resampled = _happiness_of(rng.multinomial(len(after), counts_after / len(after), RESAMPLES)) - _happiness_of(
        rng.multinomial(len(before), counts_before / len(before), RESAMPLES)
    )
    low, high = np.percentile(resampled, [2.5, 97.5])
    pooled = counts_before + counts_after
    permuted_after = rng.multivariate_hypergeometric(pooled, len(after), RESAMPLES)
    permuted = _happiness_of(permuted_after) - _happiness_of(pooled - permuted_after)
    observed = _happiness_of(counts_after) - _happiness_of(counts_before)
    extreme = np.sum(np.abs(permuted) >= abs(observed) - 1e-9)
    return float(low), float(high), float((extreme + 1) / (RESAMPLES + 1))


def _group_counts(scores: np.ndarray) -> np.ndarray:
    """Answers of 9-10, 7-8 and 0-6."""
    return np.array([np.sum(scores >= 9), np.sum((scores > 6) & (scores < 9)), np.sum(scores <= 6)])


def _happiness_of(counts: np.ndarray) -> np.ndarray:
    return 100 * (counts[..., 0] - counts[..., 2]) / counts.sum(axis=-1)


# --- overlaps -------------------------------------------------------------------------------------


def _overlaps(scope: Scope, initiative: Initiative, rule: MetricRule, start: date, end: date) -> tuple[Overlap, ...]:
    candidates = scope.apply(Initiative.objects.exclude(pk=initiative.pk).exclude(status=InitiativeStatus.CANCELLED))
    candidates = [
        other
        for other in candidates.filter(starts_on__gte=start, starts_on__lt=end).order_by("starts_on", "title")
        if _share_data(scope, rule, initiative, other, start, end)
    ]
    names = _scope_labels(scope, candidates)
    return tuple(
        Overlap(initiative_id=other.pk, title=other.title, starts_on=other.starts_on,
                scope_label=names[other.dimension, other.member])
        for other in candidates
    )  # fmt: skip


def _share_data(scope: Scope, rule: MetricRule, one: Initiative, other: Initiative, start: date, end: date) -> bool:
    """Whether two scopes hold some of the same facts: the same member or the whole organisation always; a
    service and its categories, a group and its agents, a service and a group... when some facts of the
    windows belong to both."""
    if "all" in (one.dimension, other.dimension) or (one.dimension, one.member) == (other.dimension, other.member):
        return True
    if one.dimension == other.dimension:
        return False
    return _facts(scope, rule, start, end, one.dimension, one.member, {other.dimension: other.member}).exists()


# --- public list ----------------------------------------------------------------------------------


def you_said_we_did(limit: int = 50) -> list[PublicInitiative]:
    """The initiatives marked public (not cancelled), newest first, for the page anyone may read."""
    facts.catch_up()
    initiatives = list(Initiative.objects.filter(public=True).exclude(status=InitiativeStatus.CANCELLED)[:limit])
    names = _scope_labels(None, initiatives)
    return [_public(initiative, names[initiative.dimension, initiative.member]) for initiative in initiatives]


def _public(initiative: Initiative, scope_label: str) -> PublicInitiative:
    # The public page is read by anyone, often: each effect is kept until the facts change (the caller
    # caught up first). The words are made per reader, in their language.
    key = (initiative.pk, initiative.metric, initiative.starts_on, initiative.dimension, initiative.member)
    effect = remembered("public_effect", key, lambda: _effect(EVERYTHING, initiative, None, None))
    return PublicInitiative(
        title=initiative.title, owner=initiative.owner, scope_label=scope_label, you_said=initiative.you_said,
        we_did=initiative.we_did, starts_on=initiative.starts_on, status=initiative.status,
        metric=initiative.metric, value_before=effect.value_before, value_after=effect.value_after,
        direction=None if effect.reason else effect.direction, effect=_in_words(effect),
    )  # fmt: skip


def _in_words(effect: Effect) -> str | None:
    if effect.reason:
        return None
    return effect_sentence(effect.metric, effect.value_before, effect.value_after, effect.direction)


def effect_sentence(metric: str, before: float, after: float, direction: str, write=None) -> str:
    """E.g. "Reopen rate: 14.7 % → 3.7 % (improved)" in the active language; ``write(value, unit)`` writes
    each value (pages pass theirs, which also translate the units)."""
    rule, write = METRICS[metric], write or _with_unit
    verdicts = {IMPROVED: _("improved"), WORSENED: _("worsened"), NO_CLEAR_CHANGE: _("no clear change")}
    return _("%(metric)s: %(before)s → %(after)s (%(verdict)s)") % {
        "metric": str(rule.label),
        "before": write(before, rule.unit),
        "after": write(after, rule.unit),
        "verdict": verdicts[direction],
    }


def _with_unit(value: float, unit: str) -> str:
    text = number_format(value, 1)  # in the reader's language: "14,7" in Turkish
    if unit == "/10":
        return text + unit
    return f"{text} {unit}".strip()
