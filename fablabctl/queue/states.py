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


# Who may cause each legal move. Role names are `fablabctl.people.roles.Role` values (kept as plain
# strings so this module stays free of database imports), plus "system" for the dispatcher/recovery.
# Staff actions on a job a machine holds (pause, resume, confirm, cancel) are requests that the
# dispatcher carries out, so those edges list both the person and "system".
# A tigiste may only cancel their *own* job, and only before it reaches a machine: ownership is
# checked by the caller (fablabctl.queue.jobs.cancel_job), the state part is here.
SYSTEM = "system"
STAFF_ROLES = frozenset({"admin", "trainer", "operator"})
TEACHING_ROLES = frozenset({"admin", "trainer"})
_RUN = frozenset({SYSTEM})
_STAFF_OR_RUN = STAFF_ROLES | _RUN
_CANCEL_BEFORE_MACHINE = TEACHING_ROLES | {"operator", "tigiste"}

TRIGGERS: dict[tuple[JobState, JobState], frozenset[str]] = {
    (S.SUBMITTED, S.APPROVED): TEACHING_ROLES,
    (S.SUBMITTED, S.REJECTED): TEACHING_ROLES,
    (S.SUBMITTED, S.CANCELLED): _CANCEL_BEFORE_MACHINE,
    # approval queues the job at once, in the approving trainer's name
    (S.APPROVED, S.QUEUED): TEACHING_ROLES | _RUN,
    (S.APPROVED, S.CANCELLED): _CANCEL_BEFORE_MACHINE,
    (S.QUEUED, S.PREPARING): _RUN,
    (S.QUEUED, S.CANCELLED): _CANCEL_BEFORE_MACHINE,
    (S.PREPARING, S.WAITING_OPERATOR): _RUN,
    (S.PREPARING, S.RUNNING): _RUN,
    (S.PREPARING, S.QUEUED): _RUN,
    (S.PREPARING, S.FAILED): _RUN,
    (S.PREPARING, S.CANCELLED): _STAFF_OR_RUN,
    # the operator says the bed is clear and the material loaded
    (S.WAITING_OPERATOR, S.RUNNING): _STAFF_OR_RUN,
    (S.WAITING_OPERATOR, S.QUEUED): _RUN,
    (S.WAITING_OPERATOR, S.FAILED): _RUN,
    (S.WAITING_OPERATOR, S.CANCELLED): _STAFF_OR_RUN,
    (S.RUNNING, S.PAUSED): _STAFF_OR_RUN,
    (S.RUNNING, S.DONE): _RUN,
    (S.RUNNING, S.FAILED): _RUN,
    (S.RUNNING, S.CANCELLED): _STAFF_OR_RUN,
    (S.RUNNING, S.INTERRUPTED): _RUN,
    (S.PAUSED, S.RUNNING): _STAFF_OR_RUN,
    (S.PAUSED, S.FAILED): _RUN,
    (S.PAUSED, S.CANCELLED): _STAFF_OR_RUN,
    (S.PAUSED, S.INTERRUPTED): _RUN,
    # after a crash, a person looks at the part and decides
    (S.INTERRUPTED, S.DONE): STAFF_ROLES,
    (S.INTERRUPTED, S.FAILED): STAFF_ROLES,
    (S.INTERRUPTED, S.CANCELLED): STAFF_ROLES,
}


def may_trigger(actor: str, src: JobState, dst: JobState) -> bool:
    """Whether `actor` (a role name or "system") may cause the move src -> dst; False if illegal."""
    return actor in TRIGGERS.get((src, dst), frozenset())
