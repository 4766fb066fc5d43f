"""Gaming signals: patterns in survey answers that suggest scores are being steered, not earned.

The XLA is a measure, not a target. These are warnings with their evidence, for a person to look at;
nothing here changes a score or a ranking. Pure functions over plain facts (no Django), so each rule is
tested on hand-made data. The rules and their thresholds are in docs/surveys.md ("Gaming signals").

Every rule compares like with like and asks for enough data: a small team's lucky month is not a signal.
Rate and share rules also need a one-sided exact binomial test below ``P_VALUE`` against the reference
(the higher of the subject's own baseline and its peers'), so a steady, well-liked agent is not flagged.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

P_VALUE = 0.001
MIN_DELIVERED = 10  # response-rate rule: delivered invitations in the period
RATE_RATIO, RATE_GAP = 1.8, 0.20  # rate at least 1.8× the reference and 20 points above it
FAST_SECONDS, FAST_MIN, FAST_SHARE = 120, 5, 0.30  # answers within 2 minutes of the resolution
IP_MIN_CALLERS, IP_OWN_SHARE = 3, 0.80  # one address, several callers, nearly only this subject's tickets
MIN_ANSWERS, TENS_GAP = 10, 0.25  # share of 10s: 25 points above the reference
BAD_LOST_MINUTES, MIN_BAD, HIGH_SHARE, HIGH_GAP = 150, 5, 0.70, 0.30
EXAMPLES = 5
BASELINE_DAYS = 180  # a subject's own past: the half year before the period

RESPONSE_RATE, FAST_ANSWERS, SAME_NETWORK, TENS_JUMP, DISAGREEMENT = (
    "response_rate_spike",
    "fast_answers",
    "same_network",
    "tens_jump",
    "score_disagrees_with_journey",
)


@dataclass(frozen=True)
class SurveyFact:
    """One delivered ticket survey and, when answered, its answer."""

    ticket: str
    resolved_at: datetime
    agent_id: int | None
    agent: str
    group_id: int | None
    group: str
    caller_id: int | None = None
    answered_at: datetime | None = None
    score: int | None = None
    client_ip: str | None = None
    lost_minutes: int | None = None
    reopen_count: int = 0
    reassignment_count: int = 0

    @property
    def answered(self) -> bool:
        return self.score is not None

    @property
    def bad_journey(self) -> bool:
        """Reopened, or the person says they lost half a day or more: a 9–10 is then surprising."""
        return self.reopen_count > 0 or (self.lost_minutes or 0) >= BAD_LOST_MINUTES


@dataclass(frozen=True)
class GamingWarning:
    signal: str
    subject: str  # "agent" or "group"
    subject_id: int
    name: str
    group_id: int | None
    summary: str
    evidence: dict = field(default_factory=dict)
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subject:
    kind: str
    id: int
    name: str
    group_id: int | None


# Whom a fact (or a ``Slice`` of facts: the same four attributes) is about.
SUBJECTS: dict[str, Callable[["SurveyFact | Slice"], Subject | None]] = {
    "agent": lambda f: Subject("agent", f.agent_id, f.agent, f.group_id) if f.agent_id is not None else None,
    "group": lambda f: Subject("group", f.group_id, f.group, f.group_id) if f.group_id is not None else None,
}


def binomial_tail(successes: int, trials: int, p: float) -> float:
    """P(X ≥ successes) for X ~ Binomial(trials, p): how surprising so many are by chance."""
    if successes <= 0:
        return 1.0
    if successes > trials:
        return 0.0
    p = min(max(p, 1e-9), 1 - 1e-9)
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(trials + 1) - math.lgamma(i + 1) - math.lgamma(trials - i + 1) + i * log_p + (trials - i) * log_q
        for i in range(successes, trials + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _examples(facts: Iterable[SurveyFact]) -> tuple[str, ...]:
    return tuple(sorted({f.ticket for f in facts})[:EXAMPLES])


def _period(start: datetime, end: datetime) -> dict:
    return {"from": start.isoformat(), "to": end.isoformat()}


@dataclass(frozen=True)
class Slice:
    """Facts of one agent and group, counted: what the database sums for ``detect_counted``. In the period
    only ``delivered`` is read (answers come one by one); in the baseline all three."""

    agent_id: int | None
    agent: str
    group_id: int | None
    group: str
    delivered: int = 0
    answered: int = 0
    tens: int = 0


@dataclass(frozen=True)
class Tally:
    """A subject's baseline: how many surveys reached its callers, were answered, and were 10s."""

    delivered: int = 0
    answered: int = 0
    tens: int = 0

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(self.delivered + other.delivered, self.answered + other.answered, self.tens + other.tens)


@dataclass(frozen=True)
class Own:
    """A subject's period: surveys delivered, and the answered ones with everything about them."""

    delivered: int
    answers: list[SurveyFact]


@dataclass(frozen=True)
class Counts:
    """What the rules compare a subject with, summed over facts (peers = everyone − the subject)."""

    delivered: int = 0
    answered: int = 0
    timed: int = 0  # answered, with the moment of the answer
    fast: int = 0
    tens: int = 0
    bad: int = 0  # answered, about a bad journey
    bad_high: int = 0

    @classmethod
    def of(cls, delivered: int, answers: Iterable[SurveyFact]) -> "Counts":
        found = dict.fromkeys(cls.__dataclass_fields__, 0)
        found["delivered"] = delivered
        for f in answers:
            found["answered"] += 1
            found["tens"] += f.score == 10
            if f.answered_at is not None:
                found["timed"] += 1
                found["fast"] += (_seconds_after(f) or 0) <= FAST_SECONDS
            if f.bad_journey:
                found["bad"] += 1
                found["bad_high"] += f.score >= 9
        return cls(**found)

    def __sub__(self, other: "Counts") -> "Counts":
        return Counts(**{name: getattr(self, name) - getattr(other, name) for name in self.__dataclass_fields__})


def _slice_key(fact: SurveyFact) -> tuple:
    return (fact.agent_id, fact.agent, fact.group_id, fact.group)


def detect(
    facts: Sequence[SurveyFact],
    start: datetime,
    end: datetime,
    baseline_start: datetime | None = None,
    by: str = "agent",
) -> list[GamingWarning]:
    """Every warning for the period [start, end), each subject compared with its baseline and peers.

    Facts resolved in [baseline_start, start) are the baseline; peers are all other subjects in the period
    (their figures are the period's totals minus the subject's own, so that this stays linear). The facts are
    counted per agent and group here as the database counts them for ``detect_counted``, so both give the
    same warnings through the same rules.
    """
    delivered: Counter = Counter()
    baseline: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    answers = []
    for fact in facts:
        if start <= fact.resolved_at < end:
            delivered[_slice_key(fact)] += 1
            if fact.answered:
                answers.append(fact)
        elif baseline_start is not None and baseline_start <= fact.resolved_at < start:
            sums = baseline[_slice_key(fact)]
            sums[0] += 1
            sums[1] += fact.answered
            sums[2] += fact.score == 10
    return detect_counted(
        answers,
        [Slice(*key, delivered=n) for key, n in delivered.items()],
        [Slice(*key, *sums) for key, sums in baseline.items()],
        start,
        end,
        by,
    )


def detect_counted(
    answers: Iterable[SurveyFact],
    period: Iterable[Slice],
    baseline: Iterable[Slice],
    start: datetime,
    end: datetime,
    by: str = "agent",
) -> list[GamingWarning]:
    """``detect`` from what the database can count: the answered facts of [start, end), the delivered
    surveys of the period per agent and group, and the baseline's counts per agent and group. The
    unanswered surveys of the period and every survey of the baseline are never loaded one by one."""
    subject_of = SUBJECTS[by]
    delivered: Counter = Counter()
    for part in period:
        if (subject := subject_of(part)) is not None:
            delivered[subject] += part.delivered
    before: dict[int, Tally] = defaultdict(Tally)
    for part in baseline:
        if (subject := subject_of(part)) is not None:
            before[subject.id] += Tally(part.delivered, part.answered, part.tens)
    own_answers: dict[Subject, list[SurveyFact]] = defaultdict(list)
    for fact in answers:
        if (subject := subject_of(fact)) is not None:
            own_answers[subject].append(fact)
    in_period = [f for items in own_answers.values() for f in items]
    everyone = Counts.of(sum(delivered.values()), in_period)
    answers_from = Counter(f.client_ip for f in in_period if f.client_ip)
    warnings: list[GamingWarning] = []
    context = {"period": _period(start, end)}
    # By id; a group named differently on different tickets is one subject per name (as the facts say).
    ordered = sorted(delivered, key=lambda s: (s.id, s.name, s.group_id is None, s.group_id or 0))
    for subject in ordered:
        own = Own(delivered[subject], own_answers.get(subject, []))
        peers = everyone - Counts.of(own.delivered, own.answers)
        for rule in (response_rate_spike, fast_answers, same_network, tens_jump, score_disagreement):
            found = rule(subject, own, before.get(subject.id, Tally()), peers, answers_from)
            if found is not None:
                warnings.append(
                    GamingWarning(
                        found.signal,
                        subject.kind,
                        subject.id,
                        subject.name,
                        subject.group_id,
                        found.summary,
                        context | found.evidence,
                        found.examples,
                    )
                )
    return warnings


@dataclass(frozen=True)
class _Found:
    signal: str
    summary: str
    evidence: dict
    examples: tuple[str, ...]


def response_rate_spike(subject, own: Own, baseline: Tally, peers: Counts, answers_from) -> _Found | None:
    """Far more of this subject's surveys are answered than its own past and its peers'."""
    answered = len(own.answers)
    if own.delivered < MIN_DELIVERED:
        return None
    rate = answered / own.delivered
    peer_rate = _share(peers.answered, peers.delivered)
    own_before = _share(baseline.answered, baseline.delivered) if baseline.delivered >= MIN_DELIVERED else None
    references = [r for r in (peer_rate, own_before) if r is not None]
    if not references:
        return None
    reference = max(references)
    p = binomial_tail(answered, own.delivered, reference)
    if rate < RATE_RATIO * reference or rate - reference < RATE_GAP or p >= P_VALUE:
        return None
    return _Found(
        RESPONSE_RATE,
        f"{_pct(rate)}% of surveys answered, against {_pct(reference)}% expected",
        {
            "delivered": own.delivered,
            "answered": answered,
            "rate_pct": _pct(rate),
            "peers_rate_pct": _pct(peer_rate),
            "own_baseline_rate_pct": _pct(own_before),
            "p_value": p,
        },
        _examples(own.answers),
    )


def _seconds_after(fact: SurveyFact) -> float | None:
    return (fact.answered_at - fact.resolved_at).total_seconds() if fact.answered_at else None


def fast_answers(subject, own: Own, baseline: Tally, peers: Counts, answers_from) -> _Found | None:
    """Many answers within ``FAST_SECONDS`` of the resolution: before the caller could have read the e-mail."""
    answered = [f for f in own.answers if f.answered_at is not None]
    fast = [f for f in answered if (_seconds_after(f) or 0) <= FAST_SECONDS]
    if len(fast) < FAST_MIN or len(fast) / len(answered) < FAST_SHARE:
        return None
    return _Found(
        FAST_ANSWERS,
        f"{len(fast)} of {len(answered)} answers came within {FAST_SECONDS} s of the resolution",
        {
            "answers": len(answered),
            "fast_answers": len(fast),
            "fast_share_pct": _pct(len(fast) / len(answered)),
            "peers_fast_share_pct": _pct(_share(peers.fast, peers.timed)),
            "median_seconds_fast": round(median(_seconds_after(f) for f in fast), 1),
            "threshold_seconds": FAST_SECONDS,
        },
        _examples(fast),
    )


def same_network(subject, own: Own, baseline: Tally, peers: Counts, answers_from: Counter) -> _Found | None:
    """One address answers for several different callers of this subject, and hardly for anyone else's.

    An office behind one proxy answers for every agent alike; an agent's own desk answers for theirs.
    """
    by_ip: dict[str, list[SurveyFact]] = defaultdict(list)
    for fact in own.answers:
        if fact.client_ip:
            by_ip[fact.client_ip].append(fact)
    worst = None
    for ip, answers in by_ip.items():
        callers = {f.caller_id for f in answers}
        own_share = len(answers) / answers_from[ip]
        if len(callers) >= IP_MIN_CALLERS and own_share >= IP_OWN_SHARE and (worst is None or len(answers) > worst[1]):
            worst = (ip, len(answers), len(callers), own_share, answers)
    if worst is None:
        return None
    ip, count, callers, own_share, answers = worst
    return _Found(
        SAME_NETWORK,
        f"{count} answers from {callers} different callers came from one address, {ip}",
        {
            "client_ip": ip,
            "answers_from_ip": count,
            "different_callers": callers,
            "share_of_ip_answers_about_subject_pct": _pct(own_share),
        },
        _examples(answers),
    )


def tens_jump(subject, own: Own, baseline: Tally, peers: Counts, answers_from) -> _Found | None:
    """The share of 10s rose sharply against the subject's own past and its peers."""
    scores = [f.score for f in own.answers]
    if len(scores) < MIN_ANSWERS:
        return None
    tens = sum(s == 10 for s in scores)
    own_before = _share(baseline.tens, baseline.answered) if baseline.answered >= MIN_ANSWERS else None
    peer_share = _share(peers.tens, peers.answered)
    references = [r for r in (own_before, peer_share) if r is not None]
    if not references:
        return None
    reference = max(references)
    share = tens / len(scores)
    p = binomial_tail(tens, len(scores), reference)
    if share - reference < TENS_GAP or p >= P_VALUE:
        return None
    return _Found(
        TENS_JUMP,
        f"{_pct(share)}% of answers are 10s, against {_pct(reference)}% expected",
        {
            "answers": len(scores),
            "tens": tens,
            "tens_share_pct": _pct(share),
            "own_baseline_tens_share_pct": _pct(own_before),
            "peers_tens_share_pct": _pct(peer_share),
            "p_value": p,
        },
        _examples(f for f in own.answers if f.score == 10),
    )


def score_disagreement(subject, own: Own, baseline: Tally, peers: Counts, answers_from) -> _Found | None:
    """9–10 given for reopened tickets or half a day lost, far more often than peers' callers do."""
    bad = [f for f in own.answers if f.bad_journey]
    if len(bad) < MIN_BAD:
        return None
    high = [f for f in bad if f.score >= 9]
    peer_high = _share(peers.bad_high, peers.bad)
    share = len(high) / len(bad)
    reference = peer_high or 0.0
    p = binomial_tail(len(high), len(bad), reference)
    if share < HIGH_SHARE or share - reference < HIGH_GAP or p >= P_VALUE:
        return None
    return _Found(
        DISAGREEMENT,
        f"{len(high)} of {len(bad)} reopened or costly tickets got a 9 or 10",
        {
            "bad_journeys_answered": len(bad),
            "high_scores": len(high),
            "high_share_pct": _pct(share),
            "peers_high_share_pct": _pct(peer_high),
            "reopened": sum(f.reopen_count > 0 for f in high),
            "lost_half_day_or_more": sum((f.lost_minutes or 0) >= BAD_LOST_MINUTES for f in high),
            "p_value": p,
        },
        _examples(high),
    )
