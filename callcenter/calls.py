"""Typed call events -> one CallRecord per call (keyed by Linkedid). Pure: no I/O, no clock.

A call is every channel that shares the caller's Linkedid. It is open from its first event
until its last known channel hangs up; then it gets an outcome and is forgotten, apart from
its Linkedid in a bounded memory of closed calls, so a replayed stream changes nothing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

from callcenter import events as ev

log = logging.getLogger(__name__)

Outcome = Literal[
    "open", "answered", "abandoned", "timeout", "ivr_only", "transferred", "lost"
]
FINAL_OUTCOMES: frozenset[str] = frozenset(
    {"answered", "abandoned", "timeout", "ivr_only", "transferred", "lost"}
)


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call as known now. Write it keyed by ``linkedid``: a later record replaces it.

    ``answered_at`` is set for transferred calls too (they were answered first); the agents
    are queue member interfaces (e.g. ``PJSIP/7001``), or the dialled device when a call
    reached a person without a queue. ``wait_seconds`` is the queue's own HoldTime when
    Asterisk gave one; ``talk_seconds`` its TalkTime, else measured from the events.
    """

    linkedid: str
    outcome: Outcome
    caller_num: str
    dialed_num: str
    started_at: datetime
    ivr_choice: str | None = None
    queue: str | None = None
    queue_entered_at: datetime | None = None
    agents_rung: tuple[str, ...] = ()
    ring_no_answers: tuple[str, ...] = ()  # one entry per ring that went unanswered
    agent: str | None = None
    agent_name: str | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: int | None = None
    hangup_cause_txt: str | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    transferred_to: str | None = None
    # Rebuilt afterwards from the PBX's queue_log, not seen live: it never replaces a call
    # recorded from live events (dispatch.telephony.record_call).
    recovered: bool = False

    @property
    def final(self) -> bool:
        """The call is over. A caller the queue let go unanswered (its timeout, or a key to
        leave) already has the outcome ``timeout`` while still on the line (voicemail, a
        recorded message, another menu): known, but not over until the hangup."""
        return self.outcome != "open" and self.ended_at is not None


@dataclass(slots=True)
class _Call:
    linkedid: str
    started: float
    last_seen: float
    caller_num: str = ""
    dialed_num: str = ""
    channels: set[str] = field(default_factory=set)  # live uniqueids
    ivr_choice: str | None = None
    queue: str | None = None
    joined: float | None = None
    left: float | None = None
    abandoned: bool = False
    connecting: bool = False  # a queue member answered (DialEnd ANSWER): its leaving the queue is to talk
    timed_out: bool = False   # left the queue unanswered, neither hung up nor connected
    hold_time: float | None = None
    agents_rung: list[str] = field(default_factory=list)
    ring_no_answers: list[str] = field(default_factory=list)
    agent: str | None = None
    agent_name: str | None = None
    answered: float | None = None
    talk_time: float | None = None
    dialing: bool = False
    transferred_to: str | None = None
    transferred: bool = False
    ended: float | None = None
    gone: bool = False  # closed by sweep or reconcile: its end time is only an upper bound
    cause: int | None = None
    cause_txt: str | None = None
    last: CallRecord | None = None


def _device(channel: str) -> str:
    # "PJSIP/7001-0000002a" -> "PJSIP/7001": the agent, not this one call leg
    base, sep, _ = channel.rpartition("-")
    return base if sep else channel


class CallAssembler:
    """Feed it events with ``apply``; it returns the call's new record when the call changed."""

    def __init__(self, *, ivr_variable: str = "IVR_CHOICE", remember_closed: int = 10_000):
        self._ivr_variable = ivr_variable
        self._calls: dict[str, _Call] = {}
        self._channel_call: dict[str, str] = {}  # uniqueid -> linkedid of its call now
        # Closed calls kept by Linkedid only, bounded, so late or replayed events are no-ops.
        self._closed: OrderedDict[str, None] = OrderedDict()
        self._remember_closed = remember_closed
        # Caller channels that waited in a queue under another Uniqueid than their call's
        # Linkedid (a Local channel in front of Queue()): queue_log names calls by these.
        self._queue_callids: OrderedDict[str, str] = OrderedDict()
        self._guessed: OrderedDict[str, None] = OrderedDict()  # closed by sweep or reconcile

    # -- queries --

    @property
    def open_calls(self) -> list[CallRecord]:
        return [self._snapshot(c) for c in self._calls.values()]

    def __len__(self) -> int:
        return len(self._calls)

    def is_closed(self, linkedid: str) -> bool:
        return linkedid in self._closed

    def is_open(self, linkedid: str) -> bool:
        return linkedid in self._calls

    def seen_to_end(self, linkedid: str) -> bool:
        """Closed by its own Hangup, not by a sweep or reconcile that had to guess."""
        return linkedid in self._closed and linkedid not in self._guessed

    def queue_callids(self) -> dict[str, str]:
        """queue_log callid -> Linkedid, where they differ."""
        return dict(self._queue_callids)

    # -- events --

    def apply(self, event: object) -> CallRecord | None:
        try:
            return self._apply(event)
        except Exception:  # a call whose state cannot become a record must not stop the rest
            lid = getattr(event, "linkedid", None) or getattr(event, "transferee_linkedid", None)
            log.exception("call.event_failed linkedid=%s event=%s", lid, type(event).__name__)
            if lid:
                self._drop(lid)
            return None

    def _apply(self, event: object) -> CallRecord | None:
        if isinstance(event, ev.ChannelEvent):
            return self._apply_channel(event)
        if isinstance(event, ev.BlindTransfer):
            if event.result.lower() != "success":
                return None
            return self._transfer(event.transferer_linkedid or event.transferee_linkedid,
                                  event.extension, event.at)
        if isinstance(event, ev.AttendedTransfer):
            if event.result.lower() != "success":
                return None
            return self._transfer(event.transferee_linkedid or event.orig_transferer_linkedid,
                                  event.target_num, event.at)
        return None

    def apply_all(self, events: Iterable[object]) -> list[CallRecord]:
        out = []
        for e in events:
            r = self.apply(e)
            if r is not None:
                out.append(r)
        return out

    def _apply_channel(self, e: ev.ChannelEvent) -> CallRecord | None:
        lid = e.linkedid
        if lid in self._closed:
            return None
        call = self._calls.get(lid)
        if call is None:
            if isinstance(e, ev.Hangup):
                # A channel that moved to another call ends there; the Hangup of a channel
                # we never saw tells nothing worth a row.
                moved = self._channel_call.get(e.uniqueid)
                call = self._calls.get(moved) if moved else None
                if call is None:
                    return None
            else:
                call = self._calls[lid] = _Call(linkedid=lid, started=e.at, last_seen=e.at)
        call.last_seen = e.at
        self._track_channel(call, e.uniqueid)
        changed = False

        if isinstance(e, ev.Newchannel):
            if e.uniqueid == lid or not call.caller_num:
                # the caller's channel is the one whose Uniqueid is the Linkedid
                if e.uniqueid == lid:
                    call.started = min(call.started, e.at)
                call.caller_num = e.caller_num
                call.dialed_num = e.exten
                changed = True
        elif isinstance(e, ev.Hangup):
            call.channels.discard(e.uniqueid)
            self._channel_call.pop(e.uniqueid, None)
            if e.uniqueid == lid or call.cause is None:
                call.cause, call.cause_txt = e.cause, e.cause_txt
            if not call.channels:
                return self._close(call, e.at, None)
        elif isinstance(e, ev.VarSet):
            if e.variable == self._ivr_variable and e.value:
                call.ivr_choice = e.value
                changed = True
        elif isinstance(e, ev.QueueCallerJoin):
            call.queue, call.joined, call.left = e.queue, e.at, None
            call.timed_out = call.connecting = False  # waiting again (an overflow queue)
            if e.uniqueid != lid:
                self._queue_callids[e.uniqueid] = lid
                if len(self._queue_callids) > self._remember_closed:
                    self._queue_callids.popitem(last=False)
            if not call.caller_num:
                call.caller_num = e.caller_num
            changed = True
        elif isinstance(e, ev.QueueCallerLeave):
            call.left = e.at
            # Asterisk sends QueueCallerLeave after the member's DialEnd ANSWER (then
            # AgentConnect), and after QueueCallerAbandon: with neither, the queue itself let
            # the caller go (timeout, EXITWITHKEY, empty) and the dialplan goes on with them.
            if call.answered is None and not call.abandoned and not call.connecting:
                call.timed_out = True
                changed = True
        elif isinstance(e, ev.QueueCallerAbandon):
            call.abandoned, call.hold_time = True, float(e.hold_time)
            changed = True
        elif isinstance(e, ev.AgentCalled):
            self._track_channel(call, e.dest_uniqueid)
            if e.interface not in call.agents_rung:
                call.agents_rung.append(e.interface)
                changed = True
        elif isinstance(e, ev.AgentRingNoAnswer):
            call.ring_no_answers.append(e.interface)
            changed = True
        elif isinstance(e, ev.AgentConnect):
            self._track_channel(call, e.dest_uniqueid)
            call.agent, call.agent_name = e.interface, e.member_name or None
            call.answered, call.hold_time = e.at, float(e.hold_time)
            if e.interface not in call.agents_rung:
                call.agents_rung.append(e.interface)
            changed = True
        elif isinstance(e, ev.AgentComplete):
            call.talk_time = float(e.talk_time)
            if call.answered is None:
                # We missed AgentConnect (joined mid-call): AgentComplete proves the answer.
                call.agent, call.agent_name = e.interface, e.member_name or None
                call.answered, call.hold_time = e.at - e.talk_time, float(e.hold_time)
            if e.reason == "transfer":
                call.transferred = True
            changed = True
        elif isinstance(e, ev.DialBegin):
            self._track_channel(call, e.dest_uniqueid)
            if e.uniqueid == lid:
                call.dialing = True
        elif isinstance(e, ev.DialEnd):
            if e.uniqueid == lid and e.dial_status == "ANSWER" and call.queue is not None:
                call.connecting = True
            # A call that reached a person without the queue (direct dial, ring group).
            if (e.uniqueid == lid and e.dial_status == "ANSWER" and call.queue is None
                    and call.answered is None):
                call.answered = e.at
                call.agent = _device(e.dest_channel)
                call.agent_name = e.dest_caller_num or None
                call.hold_time = e.at - call.started
                changed = True
        return self._emit(call) if changed else None

    def _track_channel(self, call: _Call, uniqueid: str) -> None:
        if not uniqueid:
            return
        prev = self._channel_call.get(uniqueid)
        if prev == call.linkedid:
            return
        if prev is not None:
            old = self._calls.get(prev)
            if old is not None:
                old.channels.discard(uniqueid)
        self._channel_call[uniqueid] = call.linkedid
        call.channels.add(uniqueid)

    def _transfer(self, linkedid: str, target: str, at: float) -> CallRecord | None:
        call = self._calls.get(linkedid)
        if call is None:
            return None
        call.transferred, call.last_seen = True, at
        call.transferred_to = target or call.transferred_to
        return self._emit(call)

    # -- closing --

    def _evidence(self, call: _Call, hung_up: bool) -> Outcome:
        if call.answered is not None:
            return "transferred" if call.transferred else "answered"
        if call.abandoned:
            return "abandoned"
        if call.queue is not None:
            if call.left is not None:
                return "timeout"
            # still waiting when it hung up: the caller gave up
            return "abandoned" if hung_up else "lost"
        if hung_up:
            return "abandoned" if call.dialing else "ivr_only"
        return "lost"

    def _close(self, call: _Call, at: float, outcome: Outcome | None) -> CallRecord:
        call.ended = at
        final = self._snapshot(call, outcome or self._evidence(call, hung_up=True))
        del self._calls[call.linkedid]
        for uid in call.channels:
            if self._channel_call.get(uid) == call.linkedid:
                del self._channel_call[uid]
        self._remember(call.linkedid)
        log.debug("call.closed linkedid=%s outcome=%s", call.linkedid, final.outcome)
        return final

    def sweep(self, now: float, max_age: float) -> list[CallRecord]:
        """Close calls silent for ``max_age`` seconds: their Hangup never came.

        A call known to be answered keeps that outcome (the operator did take it);
        otherwise it is ``lost``, so it reaches the callback list.
        """
        stale = [c for c in self._calls.values() if now - c.last_seen >= max_age]
        return [r for r in (self._close_gone(c, now) for c in stale) if r is not None]

    def reconcile(self, live: Iterable[ev.CoreShowChannel], now: float) -> list[CallRecord]:
        """After a reconnect: close open calls the PBX no longer has, adopt the ones it has."""
        present: dict[str, list[ev.CoreShowChannel]] = {}
        for ch in live:
            present.setdefault(ch.linkedid, []).append(ch)
        out = []
        for call in list(self._calls.values()):
            chans = present.get(call.linkedid)
            if chans is None:
                record = self._close_gone(call, now)
                if record is not None:
                    out.append(record)
            else:
                for uid in list(call.channels):
                    if all(c.uniqueid != uid for c in chans):
                        call.channels.discard(uid)
                        self._channel_call.pop(uid, None)
        for lid, chans in present.items():
            if lid in self._calls or lid in self._closed:
                continue
            try:
                out.append(self._adopt(lid, chans, now))
            except Exception:
                log.exception("call.adopt_failed linkedid=%s", lid)
                self._drop(lid)
        return out

    def _adopt(self, lid: str, chans: list[ev.CoreShowChannel], now: float) -> CallRecord:
        # A call that began while we were away: rebuild what CoreShowChannels tells.
        caller = next((c for c in chans if c.uniqueid == lid), chans[0])
        call = self._calls[lid] = _Call(
            linkedid=lid, started=now - caller.duration, last_seen=now,
            caller_num=caller.caller_num, dialed_num=caller.exten)
        for c in chans:
            self._track_channel(call, c.uniqueid)
        if caller.application.lower() == "queue":
            call.queue = caller.application_data.split(",")[0] or None
            call.joined = now  # unknown; the time we saw it waiting
        return self._emit(call)

    def _close_gone(self, call: _Call, now: float) -> CallRecord | None:
        call.gone = True
        log.info("call.gone linkedid=%s", call.linkedid)
        self._guessed[call.linkedid] = None
        if len(self._guessed) > self._remember_closed:
            self._guessed.popitem(last=False)
        try:
            return self._close(call, now, self._evidence(call, hung_up=False))
        except Exception:  # reconcile and sweep go on with the other calls
            log.exception("call.close_failed linkedid=%s", call.linkedid)
            self._drop(call.linkedid)
            return None

    def _drop(self, linkedid: str) -> None:
        """Forget a call whose state is broken; its later events are ignored like a closed one's."""
        call = self._calls.pop(linkedid, None)
        if call is not None:
            for uid in call.channels:
                if self._channel_call.get(uid) == linkedid:
                    del self._channel_call[uid]
        self._remember(linkedid)
        log.error("call.dropped linkedid=%s", linkedid)

    def _remember(self, linkedid: str) -> None:
        self._closed[linkedid] = None
        if len(self._closed) > self._remember_closed:
            self._closed.popitem(last=False)

    # -- records --

    def _snapshot(self, c: _Call, outcome: Outcome = "open") -> CallRecord:
        wait = c.hold_time
        if wait is None and c.joined is not None and c.left is not None:
            wait = max(0.0, c.left - c.joined)
        talk = c.talk_time
        if talk is None and c.answered is not None and c.ended is not None and not c.gone:
            talk = max(0.0, c.ended - c.answered)
        return CallRecord(
            linkedid=c.linkedid,
            outcome=outcome,
            caller_num=c.caller_num,
            dialed_num=c.dialed_num,
            started_at=_dt(c.started),  # type: ignore[arg-type]
            ivr_choice=c.ivr_choice,
            queue=c.queue,
            queue_entered_at=_dt(c.joined),
            agents_rung=tuple(c.agents_rung),
            ring_no_answers=tuple(c.ring_no_answers),
            agent=c.agent,
            agent_name=c.agent_name,
            answered_at=_dt(c.answered),
            ended_at=_dt(c.ended),
            hangup_cause=c.cause,
            hangup_cause_txt=c.cause_txt,
            wait_seconds=wait,
            talk_seconds=talk,
            transferred_to=c.transferred_to,
        )

    def _emit(self, call: _Call) -> CallRecord | None:
        # Not waiting any more, not answered: counted as such while the caller still listens.
        rec = self._snapshot(call, "timeout" if call.timed_out and call.answered is None else "open")
        if rec == call.last:
            return None
        call.last = rec
        return rec
