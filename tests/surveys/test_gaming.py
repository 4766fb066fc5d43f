"""Each gaming rule on hand-made data: it fires on the pattern and stays quiet on honest variation."""

from datetime import UTC, datetime, timedelta

from itxm.surveys.gaming import (
    DISAGREEMENT,
    FAST_ANSWERS,
    RESPONSE_RATE,
    SAME_NETWORK,
    TENS_JUMP,
    SurveyFact,
    binomial_tail,
    detect,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(days=90)
BASE = START - timedelta(days=180)


def fact(agent, n, *, answered=True, score=8, day=10, delay=7200, ip=None, reopen=0, lost=None, caller=None):
    resolved = START + timedelta(days=day, minutes=n)
    return SurveyFact(
        ticket=f"INC-{agent}-{day}-{n}",
        resolved_at=resolved,
        agent_id=agent,
        agent=f"agent {agent}",
        group_id=agent // 10,
        group=f"group {agent // 10}",
        caller_id=caller if caller is not None else agent * 1000 + n,
        answered_at=resolved + timedelta(seconds=delay) if answered else None,
        score=score if answered else None,
        client_ip=ip or f"10.0.{agent}.{n % 250}",
        reopen_count=reopen,
        lost_minutes=lost,
    )


def honest(agent, count=40, answer_every=4, day=10):
    """A quarter answered, mixed scores, hours after the resolution, each caller from their own address."""
    return [
        fact(agent, n, answered=n % answer_every == 0, score=(6, 8, 9, 10)[n % 4 // 1 % 4], day=day)
        for n in range(count)
    ]


def peers():
    return [f for agent in (11, 12, 13, 21, 22) for f in honest(agent)]


def signals(facts, agent=1):
    return {w.signal for w in detect(facts, START, END, BASE) if w.subject_id == agent}


def test_binomial_tail_is_a_probability():
    assert binomial_tail(0, 10, 0.3) == 1.0
    assert abs(binomial_tail(10, 10, 0.5) - 0.5**10) < 1e-12
    assert binomial_tail(5, 10, 0.5) > binomial_tail(9, 10, 0.5)


def test_honest_agents_raise_nothing():
    assert detect(peers(), START, END, BASE) == []


def test_response_rate_spike_against_peers_and_own_past():
    spiking = [fact(1, n, answered=n % 10 < 8, delay=7200) for n in range(30)]
    warnings = [w for w in detect(peers() + spiking, START, END, BASE) if w.signal == RESPONSE_RATE]
    assert [w.subject_id for w in warnings] == [1]
    assert warnings[0].evidence["rate_pct"] == 80.0 and warnings[0].evidence["peers_rate_pct"] == 25.0
    # An agent whose callers always answered that often shows no spike against its own past.
    past = [fact(1, n, answered=n % 10 < 8, day=-60) for n in range(30)]
    assert RESPONSE_RATE not in signals(peers() + spiking + past)


def test_fast_answers_need_several_within_two_minutes():
    fast = [fact(1, n, answered=n % 2 == 0, delay=40 if n % 4 == 0 else 7200) for n in range(40)]
    warning = next(w for w in detect(peers() + fast, START, END, BASE) if w.signal == FAST_ANSWERS)
    assert warning.evidence["fast_answers"] == 10 and warning.examples
    few = [fact(1, n, answered=n % 4 == 0, delay=40 if n < 8 else 7200) for n in range(40)]
    assert FAST_ANSWERS not in signals(peers() + few)


def test_same_network_is_one_address_for_several_callers():
    shared = [fact(1, n, answered=n % 4 == 0, ip="10.9.9.9" if n < 20 else None) for n in range(40)]
    warning = next(w for w in detect(peers() + shared, START, END, BASE) if w.signal == SAME_NETWORK)
    assert warning.evidence["client_ip"] == "10.9.9.9" and warning.evidence["different_callers"] == 5


def test_an_office_proxy_shared_by_everyone_is_not_a_signal():
    proxied = [
        fact(agent, n, answered=n % 4 == 0, ip="192.0.2.1") for agent in (1, 11, 12, 13, 21, 22) for n in range(40)
    ]
    assert SAME_NETWORK not in signals(proxied)


def test_one_person_answering_their_own_tickets_from_home_is_not_a_signal():
    same_caller = [fact(1, n, answered=n % 4 == 0, ip="10.9.9.9", caller=5) for n in range(40)]
    assert SAME_NETWORK not in signals(peers() + same_caller)


def test_tens_jump_against_own_baseline():
    before = [fact(1, n, answered=n % 2 == 0, score=(7, 8, 9, 10)[n // 2 % 4], day=-60) for n in range(40)]
    after = [fact(1, n, answered=n % 4 == 0, score=10) for n in range(40)]
    warning = next(w for w in detect(peers() + before + after, START, END, BASE) if w.signal == TENS_JUMP)
    assert warning.evidence["tens_share_pct"] == 100.0
    assert warning.evidence["own_baseline_tens_share_pct"] == 25.0
    steady = [fact(1, n, answered=n % 4 == 0, score=(7, 8, 9, 10)[n // 4 % 4]) for n in range(40)]
    assert TENS_JUMP not in signals(peers() + before + steady)


def test_high_scores_on_reopened_tickets_disagree_with_the_journey():
    peer_bad = [fact(30 + a, n, score=4, reopen=1) for a in range(3) for n in range(8)]
    glowing = [fact(1, n, score=10, reopen=1) for n in range(8)]
    warning = next(w for w in detect(peers() + peer_bad + glowing, START, END, BASE) if w.signal == DISAGREEMENT)
    assert warning.subject_id == 1 and warning.evidence["reopened"] == 8
    fair = [fact(1, n, score=(3, 5, 9)[n % 3], reopen=1) for n in range(8)]
    assert DISAGREEMENT not in signals(peers() + peer_bad + fair)


def test_groups_are_subjects_too():
    spiking = [fact(41, n, answered=n % 10 < 8) for n in range(60)]
    warnings = detect(peers() + spiking, START, END, BASE, by="group")
    assert {(w.subject, w.subject_id) for w in warnings if w.signal == RESPONSE_RATE} == {("group", 4)}
