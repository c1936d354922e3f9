"""The job state machine: every legal move, and nothing else.

```
submitted -> approved -> queued -> preparing -> waiting_operator -> running <-> paused
    |            |          ^          |  (retryable)                  |
    v            |          +----------+                               v
 rejected        +--> cancelled (from any non-final state)    done | failed | interrupted
```
`interrupted` is a serial job that was running when the service stopped: an operator decides whether
it is done, failed, or printed again (a new attempt). Final states never move again.
"""

from __future__ import annotations

from enum import StrEnum

from fablabctl.i18n import Text


class JobState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    QUEUED = "queued"
    PREPARING = "preparing"
    WAITING_OPERATOR = "waiting_operator"
    RUNNING = "running"
    PAUSED = "paused"
    INTERRUPTED = "interrupted"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


S = JobState
TERMINAL_STATES = frozenset({S.REJECTED, S.DONE, S.FAILED, S.CANCELLED})
# states in which the job holds a machine
ACTIVE_STATES = frozenset({S.PREPARING, S.WAITING_OPERATOR, S.RUNNING, S.PAUSED})

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.QUEUED, S.CANCELLED}),
    S.QUEUED: frozenset({S.PREPARING, S.CANCELLED}),
    # back to queued: the machine went away before anything ran, or a retryable preparation error
    S.PREPARING: frozenset({S.WAITING_OPERATOR, S.RUNNING, S.QUEUED, S.FAILED, S.CANCELLED}),
    S.WAITING_OPERATOR: frozenset({S.RUNNING, S.QUEUED, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.PAUSED, S.DONE, S.FAILED, S.CANCELLED, S.INTERRUPTED}),
    S.PAUSED: frozenset({S.RUNNING, S.FAILED, S.CANCELLED, S.INTERRUPTED}),
    S.INTERRUPTED: frozenset({S.DONE, S.FAILED, S.CANCELLED}),
    S.REJECTED: frozenset(),
    S.DONE: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
}


class IllegalTransition(ValueError):
    def __init__(self, src: JobState, dst: JobState) -> None:
        self.src, self.dst = src, dst
        self.message = Text(
            f"Un travail ne peut pas passer de « {src} » à « {dst} ».",
            f"A job cannot go from '{src}' to '{dst}'.",
        )
        super().__init__(self.message.en)


def can_transition(src: JobState, dst: JobState) -> bool:
    return dst in TRANSITIONS[src]


def check_transition(src: JobState, dst: JobState) -> None:
    if not can_transition(src, dst):
        raise IllegalTransition(src, dst)
