"""The one transition table of the ticket lifecycle (docs/DESIGN.md) and the public board buckets."""
from __future__ import annotations

import enum


class State(str, enum.Enum):
    RECEIVED = "received"          # 受理
    ANSWERED = "answered"          # 直接办结
    TRANSFERRED = "transferred"    # 转办, waiting for the unit
    RETURNED = "returned"          # 退单, back to dispatch
    IN_PROGRESS = "in_progress"    # 在办
    RESOLVED = "resolved"          # 办结, unit replied
    REOPENED = "reopened"          # 重办
    CLOSED = "closed"              # follow-up done
    INVALID = "invalid"            # closed as invalid at intake
    MERGED = "merged"              # merged into another ticket
    HANDED_OVER = "handed_over"    # 即时转: handed to 110 / 119 / 120 / 122 and closed


class Action(str, enum.Enum):
    ANSWER = "answer"
    TRANSFER = "transfer"
    ACCEPT = "accept"
    RETURN = "return"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    INVALIDATE = "invalidate"
    MERGE = "merge"
    HANDOVER = "handover"
    REDISPATCH = "redispatch"      # a dispute upheld: back to dispatch after the unit accepted
    TRIAGE = "triage"              # 转人工分派: reopened, its unit retired with no successor: back to dispatch


S, A = State, Action

TRANSITIONS: dict[tuple[State, Action], State] = {
    (S.RECEIVED, A.ANSWER): S.ANSWERED,
    (S.RECEIVED, A.TRANSFER): S.TRANSFERRED,
    (S.RECEIVED, A.INVALIDATE): S.INVALID,
    (S.RECEIVED, A.MERGE): S.MERGED,
    (S.RECEIVED, A.HANDOVER): S.HANDED_OVER,
    (S.RETURNED, A.INVALIDATE): S.INVALID,
    (S.RETURNED, A.MERGE): S.MERGED,
    (S.RETURNED, A.HANDOVER): S.HANDED_OVER,
    (S.IN_PROGRESS, A.REDISPATCH): S.RETURNED,
    (S.REOPENED, A.REDISPATCH): S.RETURNED,
    (S.REOPENED, A.TRIAGE): S.RETURNED,
    (S.TRANSFERRED, A.ACCEPT): S.IN_PROGRESS,
    (S.TRANSFERRED, A.RETURN): S.RETURNED,
    (S.RETURNED, A.TRANSFER): S.TRANSFERRED,
    (S.IN_PROGRESS, A.RESOLVE): S.RESOLVED,
    (S.RESOLVED, A.CLOSE): S.CLOSED,
    (S.RESOLVED, A.REOPEN): S.REOPENED,
    (S.REOPENED, A.ACCEPT): S.IN_PROGRESS,
}

# States in which the ticket is with a unit: only that unit's staff may act on it.
UNIT_STATES = frozenset({S.TRANSFERRED, S.IN_PROGRESS, S.REOPENED})
# Work is finished: no deadline can be missed any more.
FINISHED_STATES = frozenset({S.ANSWERED, S.RESOLVED, S.CLOSED, S.INVALID, S.MERGED, S.HANDED_OVER})
# A unit asks for more time, and a supervisor decides, while it handles the ticket.
EXTENDABLE_STATES = frozenset({S.IN_PROGRESS, S.REOPENED})
# Not yet with a unit: what was filed at 受理 may still be corrected (修改受理信息,
# dispatch/corrections.py). A returned ticket is back at dispatch: a unit's 退单 often shows
# the request was taken down wrong. Once a unit holds it, what it was sent is what it works on.
CORRECTABLE_STATES = frozenset({S.RECEIVED, S.RETURNED})
# A supervisor (or an admin) may still correct while a unit holds the ticket: a wrong name, a
# citizen's late request for 保密, a wrong place found by the unit. Not once the work is done.
SUPERVISOR_CORRECTABLE_STATES = CORRECTABLE_STATES | {S.TRANSFERRED, S.IN_PROGRESS, S.REOPENED}
# Counted as resolved by the resolution rate (an answered ticket is resolved at intake).
RESOLVED_STATES = frozenset({S.ANSWERED, S.RESOLVED, S.CLOSED})


class Bucket(str, enum.Enum):
    """Hengshui's big screen: every ticket is received; open ones are pending or in progress."""

    PENDING = "pending"          # 待办
    IN_PROGRESS = "in_progress"  # 在办
    RESOLVED = "resolved"        # 办结
    CLOSED_OTHER = "other"       # invalid, merged or handed over: received, but on no other pile


BOARD_BUCKET: dict[State, Bucket] = {
    S.RECEIVED: Bucket.PENDING,
    S.TRANSFERRED: Bucket.PENDING,
    S.RETURNED: Bucket.PENDING,
    S.IN_PROGRESS: Bucket.IN_PROGRESS,
    S.REOPENED: Bucket.IN_PROGRESS,
    S.ANSWERED: Bucket.RESOLVED,
    S.RESOLVED: Bucket.RESOLVED,
    S.CLOSED: Bucket.RESOLVED,
    S.INVALID: Bucket.CLOSED_OTHER,
    S.MERGED: Bucket.CLOSED_OTHER,
    S.HANDED_OVER: Bucket.CLOSED_OTHER,
}


def next_state(state: State, action: Action) -> State | None:
    """The state an action leads to, or None where the table forbids it."""
    return TRANSITIONS.get((state, action))
