"""The job state machine, checked pair by pair against an independent list of the legal edges."""

from __future__ import annotations

import itertools

import pytest

from fablabctl.queue.states import (
    ACTIVE_STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    TRIGGERS,
    IllegalTransition,
    JobState,
    can_transition,
    check_transition,
    may_trigger,
)

S = JobState

# Written out by hand from the job life described in the task, not derived from TRANSITIONS.
LEGAL = {
    (S.SUBMITTED, S.APPROVED),
    (S.SUBMITTED, S.REJECTED),
    (S.SUBMITTED, S.CANCELLED),
    (S.APPROVED, S.QUEUED),
    (S.APPROVED, S.CANCELLED),
    (S.QUEUED, S.PREPARING),
    (S.QUEUED, S.CANCELLED),
    (S.PREPARING, S.WAITING_OPERATOR),
    (S.PREPARING, S.RUNNING),
    (S.PREPARING, S.QUEUED),
    (S.PREPARING, S.FAILED),
    (S.PREPARING, S.CANCELLED),
    (S.WAITING_OPERATOR, S.RUNNING),
    (S.WAITING_OPERATOR, S.QUEUED),
    (S.WAITING_OPERATOR, S.FAILED),
    (S.WAITING_OPERATOR, S.CANCELLED),
    (S.RUNNING, S.PAUSED),
    (S.RUNNING, S.DONE),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.CANCELLED),
    (S.RUNNING, S.INTERRUPTED),
    (S.PAUSED, S.RUNNING),
    (S.PAUSED, S.FAILED),
    (S.PAUSED, S.CANCELLED),
    (S.PAUSED, S.INTERRUPTED),
    (S.INTERRUPTED, S.DONE),
    (S.INTERRUPTED, S.FAILED),
    (S.INTERRUPTED, S.CANCELLED),
}
ALL_PAIRS = list(itertools.product(JobState, JobState))


@pytest.mark.parametrize(("src", "dst"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_pair(src: JobState, dst: JobState) -> None:
    legal = (src, dst) in LEGAL
    assert can_transition(src, dst) is legal
    if legal:
        check_transition(src, dst)
    else:
        with pytest.raises(IllegalTransition) as caught:
            check_transition(src, dst)
        assert (caught.value.src, caught.value.dst) == (src, dst)
        assert src.value in caught.value.message.fr and dst.value in caught.value.message.fr
        assert src.value in caught.value.message.en and dst.value in caught.value.message.en


def test_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(JobState)


def test_terminal_states_never_move_and_others_can_be_cancelled() -> None:
    assert {S.REJECTED, S.DONE, S.FAILED, S.CANCELLED} == TERMINAL_STATES
    for state in JobState:
        if state in TERMINAL_STATES:
            assert TRANSITIONS[state] == frozenset()
        else:
            assert can_transition(state, S.CANCELLED)


def test_active_states_are_those_holding_a_machine() -> None:
    assert {S.PREPARING, S.WAITING_OPERATOR, S.RUNNING, S.PAUSED} == ACTIVE_STATES
    assert not ACTIVE_STATES & TERMINAL_STATES


def test_every_state_reachable_from_submitted() -> None:
    seen, todo = {S.SUBMITTED}, [S.SUBMITTED]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(JobState)


def test_triggers_exactly_the_legal_edges() -> None:
    assert set(TRIGGERS) == LEGAL
    assert all(TRIGGERS[edge] for edge in LEGAL)


ROLE_CASES = [
    ("trainer", S.SUBMITTED, S.APPROVED, True),
    ("admin", S.SUBMITTED, S.REJECTED, True),
    ("operator", S.SUBMITTED, S.APPROVED, False),
    ("tigiste", S.SUBMITTED, S.APPROVED, False),
    ("tigiste", S.SUBMITTED, S.CANCELLED, True),
    ("tigiste", S.QUEUED, S.CANCELLED, True),
    ("tigiste", S.RUNNING, S.CANCELLED, False),
    ("tigiste", S.WAITING_OPERATOR, S.RUNNING, False),
    ("operator", S.WAITING_OPERATOR, S.RUNNING, True),
    ("operator", S.RUNNING, S.PAUSED, True),
    ("operator", S.PAUSED, S.RUNNING, True),
    ("operator", S.INTERRUPTED, S.DONE, True),
    ("system", S.INTERRUPTED, S.DONE, False),
    ("system", S.QUEUED, S.PREPARING, True),
    ("operator", S.QUEUED, S.PREPARING, False),
    ("system", S.RUNNING, S.INTERRUPTED, True),
    ("trainer", S.RUNNING, S.DONE, False),
    ("system", S.RUNNING, S.DONE, True),
    ("admin", S.DONE, S.RUNNING, False),
]


@pytest.mark.parametrize(("actor", "src", "dst", "allowed"), ROLE_CASES)
def test_who_may_trigger(actor: str, src: JobState, dst: JobState, allowed: bool) -> None:
    assert may_trigger(actor, src, dst) is allowed
