"""The calls behind the demo history's phone tickets (dispatch/demo_history.py), so that the
话务 figures of any day of the demo (offered, answered, abandoned, waits and talk times, read
from the running totals of dispatch/call_totals.py) agree with its tickets.

Every phone ticket was filed during an answered call from its citizen's number: the caller
went through the voice menu, waited in the 12345 queue, an agent answered, and the operator
filed the ticket near the end of the call (answering a question on the line, or handing the
caller over to 110/119/120/122, before it ended). Other calls file no ticket: citizens asking
after an earlier ticket, and callers who hung up while waiting, more of them in busy hours,
when the waits are longer too. A missed call is on the callback list as telephony.record_call
puts it there, until the caller gets through on a later try or an operator calls them back.
The rows are those the AMI bridge writes. The plan draws its own random numbers: the tickets
are the same as without it, and the same seed gives the same calls.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dispatch.telephony import CALLBACK_DONE, CALLBACK_PENDING
from dispatch.vocabulary import CALLED_AGAIN_NOTE_ZH, DialResult

# As the AMI simulator's queue and its members (callcenter/scenarios.py), with a few more
# agents for a hotline that answers round the clock.
QUEUE = "12345"
AGENTS = (("PJSIP/7001", "Wang Fang"), ("PJSIP/7002", "Li Na"), ("PJSIP/7003", "Zhang Wei"),
          ("PJSIP/7004", "Sun Li"), ("PJSIP/7005", "Zhou Min"), ("PJSIP/7006", "Wu Hao"),
          ("PJSIP/7007", "Xu Ting"), ("PJSIP/7008", "Ma Jun"))
HANGUP = "Normal Clearing"
ENQUIRY_SHARE = 0.06        # answered calls asking after an earlier ticket, per phone ticket
CALLED_AGAIN_SHARE = 0.4    # of the callers who gave up, those who then got through themselves
# The attempt as callcenter/callbacks.py logs it.
_REACHED = f"{DialResult.ANSWERED.value} (originate reason 4)"
_NOT_REACHED = f"{DialResult.NO_ANSWER.value} (originate reason 3)"


@dataclass(frozen=True)
class PhoneTicket:
    """What the calls need of a phone ticket of the history."""

    number: str
    phone: str
    received_at: dt.datetime
    # When the operator settled it on the line (answered it, marked it invalid, handed the
    # caller over); None when it went on to a unit, was merged, or is still to be settled.
    settled_at: dt.datetime | None = None
    invalid: bool = False
    handed_over_to: str | None = None


@dataclass
class CallPlan:
    calls: list[dict[str, Any]] = field(default_factory=list)      # Call's columns, ticket_id unset
    filed: dict[str, str] = field(default_factory=dict)            # ticket number -> its call's linkedid
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # Callback's columns and the call's linkedid


def plan(tickets: list[PhoneTicket], now: dt.datetime, seed: int, *, operator_id: int | None) -> CallPlan:
    """The calls of `tickets` (oldest first) and the calls around them, none after `now`;
    `operator_id` closes the callbacks."""
    return _Planner(tickets, now, random.Random(f"{seed}:calls"), operator_id).run()


def _hour(t: dt.datetime) -> int:
    """The hour `t` falls in: China time is UTC+8, its hours are whole hours of UTC."""
    return int(t.timestamp()) // 3600


class _Planner:
    def __init__(self, tickets: list[PhoneTicket], now: dt.datetime, rng: random.Random,
                 operator_id: int | None) -> None:
        self.tickets, self.now, self.rng, self.operator_id = tickets, now, rng, operator_id
        self.plan = CallPlan()
        self.seq = 0
        # How busy each hour was: its phone tickets against the busiest hour's.
        self.per_hour = Counter(_hour(t.received_at) for t in tickets)
        self.peak = max(self.per_hour.values(), default=1)

    def run(self) -> CallPlan:
        rng, tickets = self.rng, self.tickets
        for i, ticket in enumerate(tickets):
            call = self.ticket_call(ticket)
            self.plan.filed[ticket.number] = call["linkedid"]
            gives_up = 0.015 + 0.05 * self.load(ticket.received_at)
            roll = rng.random()
            if roll < gives_up * CALLED_AGAIN_SHARE:
                self.missed(call["started_at"] - dt.timedelta(minutes=rng.uniform(3, 15)), ticket.phone,
                            got_through=call["answered_at"])
            elif roll < gives_up:
                self.missed(self.around(ticket.received_at), self.stranger(), got_through=None)
            if i and rng.random() < ENQUIRY_SHARE:
                earlier = tickets[rng.randrange(max(0, i - 1000), i)]
                self.enquiry(self.around(ticket.received_at), earlier.phone)
        self.plan.calls.sort(key=lambda c: c["started_at"])
        return self.plan

    def load(self, t: dt.datetime) -> float:
        return self.per_hour.get(_hour(t), 0) / self.peak

    def around(self, t: dt.datetime) -> dt.datetime:
        """Another call of about the same time: the hours stay as busy as the tickets say."""
        return t + dt.timedelta(minutes=self.rng.uniform(-30, 30))

    def stranger(self) -> str:
        return f"+861{self.rng.choice('3578')}{self.rng.randrange(10**9):09d}"

    # -- calls --

    def ticket_call(self, ticket: PhoneTicket) -> dict[str, Any]:
        """Heard out (a silent or prank call briefly), filed, settled on the line if it was."""
        rng, filed = self.rng, ticket.received_at
        heard = rng.uniform(5, 35) if ticket.invalid else min(rng.lognormvariate(math.log(150), 0.5), 1200.0)
        if ticket.handed_over_to is not None and ticket.settled_at is not None:
            ended = ticket.settled_at   # put through to the emergency number: the call is theirs now
        else:
            last = ticket.settled_at if ticket.settled_at is not None and not ticket.invalid else filed
            ended = last + dt.timedelta(seconds=rng.uniform(5, 40))
        return self.answered(filed - dt.timedelta(seconds=heard), min(ended, self.now), ticket.phone,
                             transferred_to=ticket.handed_over_to)

    def enquiry(self, at: dt.datetime, caller: str) -> None:
        """A citizen asking after an earlier ticket: the operator reads them how it stands."""
        ended = at + dt.timedelta(seconds=self.rng.uniform(40, 240))
        if ended < self.now:
            self.answered(at, ended, caller)

    def answered(self, answered: dt.datetime, ended: dt.datetime, caller: str, *,
                 transferred_to: str | None = None) -> dict[str, Any]:
        rng = self.rng
        wait = round(min(rng.expovariate(1 / (3 + 9 * self.load(answered))), 110.0), 1)
        entered = answered - dt.timedelta(seconds=wait)
        agent = rng.choice(AGENTS)
        return self.row(entered - dt.timedelta(seconds=rng.uniform(8, 25)), caller, entered, wait, ended,
                        outcome="transferred" if transferred_to else "answered", agent=agent, answered=answered,
                        talk=round((ended - answered).total_seconds(), 1), transferred_to=transferred_to)

    def missed(self, started: dt.datetime, caller: str, *, got_through: dt.datetime | None) -> None:
        """A caller who hung up while waiting (a fifth of them within seconds)."""
        rng = self.rng
        entered = started + dt.timedelta(seconds=rng.uniform(8, 25))
        wait = round(rng.uniform(1, 5) if rng.random() < 0.2 else rng.uniform(6, 100), 1)
        ended = entered + dt.timedelta(seconds=wait)
        if ended >= self.now:
            return
        call = self.row(started, caller, entered, wait, ended, outcome="abandoned")
        self.plan.callbacks.append(self.callback(call["linkedid"], caller, ended, got_through))

    def row(self, started: dt.datetime, caller: str, entered: dt.datetime, wait: float, ended: dt.datetime, *,
            outcome: str, agent: tuple[str, str] | None = None, answered: dt.datetime | None = None,
            talk: float | None = None, transferred_to: str | None = None) -> dict[str, Any]:
        self.seq += 1
        row = {"linkedid": f"{int(started.timestamp())}.{self.seq}",   # Asterisk's epoch.sequence
               "caller": caller, "dialed": QUEUE, "ivr_choice": None, "queue": QUEUE, "started_at": started,
               "entered_queue_at": entered, "answered_at": answered, "ended_at": ended,
               "agent": agent[0] if agent else None, "agent_name": agent[1] if agent else None,
               "agents_rung": [agent[0]] if agent else [], "ring_no_answers": 0, "hangup_cause": HANGUP,
               "wait_seconds": wait, "talk_seconds": talk, "outcome": outcome, "transferred_to": transferred_to,
               "updated_at": ended, "ticket_id": None}
        self.plan.calls.append(row)
        return row

    # -- the callback list --

    def callback(self, linkedid: str, caller: str, missed: dt.datetime,
                 got_through: dt.datetime | None) -> dict[str, Any]:
        """Closed when an operator sees the caller got through, or reaches them calling back
        (a second try when the first rings out); still pending if that is after now."""
        rng = self.rng
        callback = {"linkedid": linkedid, "caller": caller, "created_at": missed, "status": CALLBACK_PENDING,
                    "attempts": 0, "last_attempt_at": None, "last_result": None, "done_at": None, "done_by": None,
                    "note": None}
        if got_through is not None:
            done = got_through + dt.timedelta(minutes=rng.uniform(1, 20))
            if done < self.now:
                callback.update(status=CALLBACK_DONE, done_at=done, done_by=self.operator_id, note=CALLED_AGAIN_NOTE_ZH)
            return callback
        attempt = missed
        for tries in (1, 2):
            attempt += dt.timedelta(minutes=rng.uniform(3, 60) if tries == 1 else rng.uniform(60, 180))
            if attempt >= self.now:
                break
            reached = tries == 2 or rng.random() < 0.75
            callback.update(attempts=tries, last_attempt_at=attempt, last_result=_REACHED if reached else _NOT_REACHED)
            if reached:
                callback.update(status=CALLBACK_DONE, done_at=attempt, done_by=self.operator_id)
                break
        return callback
