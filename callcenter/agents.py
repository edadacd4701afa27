"""Agent state per member interface, from QueueMember* and Agent* events. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from callcenter import events as ev

# Asterisk device states (QueueMemberStatus "Status")
_RINGING = {6, 7}  # ringing, ringing while in use
_BUSY = {2, 3, 7, 8}  # in use, busy, ringinuse, on hold
_UNAVAILABLE = {4, 5}  # invalid, unavailable


@dataclass(frozen=True, slots=True)
class AgentState:
    interface: str  # e.g. PJSIP/7001: the key
    member_name: str = ""
    queues: frozenset[str] = field(default_factory=frozenset)
    paused: bool = False
    paused_reason: str = ""
    ringing: bool = False
    on_call: bool = False
    available: bool = True  # the device is reachable
    changed_at: float = 0.0

    @property
    def logged_in(self) -> bool:
        return bool(self.queues)


class AgentStates:
    """``apply`` returns the states that changed (often none, at most a few)."""

    def __init__(self) -> None:
        self._agents: dict[str, AgentState] = {}
        # With ringall, the agents who lose the race get no event of their own: when the
        # call is answered or leaves the queue, everyone still ringing for it stops.
        self._ringing_for: dict[str, str] = {}  # interface -> linkedid

    def __getitem__(self, interface: str) -> AgentState:
        return self._agents[interface]

    def all(self) -> list[AgentState]:
        return sorted(self._agents.values(), key=lambda a: a.interface)

    def apply(self, e: object) -> list[AgentState]:
        changed: list[AgentState | None] = []
        if isinstance(e, ev.MemberEvent):
            changed.append(self._member(e))
        elif isinstance(e, ev.AgentEvent):
            changed.append(self._call(e))
        if isinstance(e, (ev.AgentConnect, ev.QueueCallerLeave, ev.QueueCallerAbandon)):
            for interface, lid in list(self._ringing_for.items()):
                if lid == e.linkedid:
                    del self._ringing_for[interface]
                    changed.append(self._set(interface, e.at, ringing=False))
        return [s for s in changed if s is not None]

    def reconcile(self, members: Iterable[ev.QueueMember], at: float) -> list[AgentState]:
        """Replace what we know with a QueueStatus snapshot (after a reconnect)."""
        seen: dict[str, list[ev.QueueMember]] = {}
        for m in members:
            seen.setdefault(m.interface, []).append(m)
        changed: list[AgentState | None] = []
        for interface in list(self._agents):
            if interface not in seen:
                self._ringing_for.pop(interface, None)
                changed.append(self._set(interface, at, queues=frozenset(), ringing=False,
                                         on_call=False, paused=False, paused_reason=""))
        for interface, rows in seen.items():
            last = rows[-1]
            changed.append(self._set(
                interface, at,
                queues=frozenset(r.queue for r in rows),
                member_name=last.member_name,
                paused=any(bool(r.paused) for r in rows),
                paused_reason=last.paused_reason if any(r.paused for r in rows) else "",
                on_call=any(bool(r.in_call) or r.status in _BUSY for r in rows),
                ringing=any(r.status in _RINGING for r in rows),
                available=not all(r.status in _UNAVAILABLE for r in rows),
            ))
        return [s for s in changed if s is not None]

    def _set(self, interface: str, at: float, **changes: object) -> AgentState | None:
        old = self._agents.get(interface) or AgentState(interface=interface)
        new = replace(old, **changes)  # type: ignore[arg-type]
        if new == old and interface in self._agents:
            return None
        new = replace(new, changed_at=at)
        self._agents[interface] = new
        return new

    def _member(self, e: ev.MemberEvent) -> AgentState | None:
        old = self._agents.get(e.interface) or AgentState(interface=e.interface)
        queues = set(old.queues)
        if isinstance(e, ev.QueueMemberRemoved):
            queues.discard(e.queue)
        elif e.queue:
            queues.add(e.queue)
        changes: dict[str, object] = {"queues": frozenset(queues)}
        if e.member_name:
            changes["member_name"] = e.member_name
        if e.paused is not None:
            changes["paused"] = e.paused
            changes["paused_reason"] = e.paused_reason if e.paused else ""
        if e.status is not None:
            changes["ringing"] = e.status in _RINGING
            changes["available"] = e.status not in _UNAVAILABLE
            changes["on_call"] = e.status in _BUSY or bool(e.in_call)
        elif e.in_call is not None:
            changes["on_call"] = e.in_call
        if not queues:
            self._ringing_for.pop(e.interface, None)
            changes.update(ringing=False, on_call=False, paused=False, paused_reason="")
        return self._set(e.interface, e.at, **changes)

    def _call(self, e: ev.AgentEvent) -> AgentState | None:
        if isinstance(e, ev.AgentCalled):
            self._ringing_for[e.interface] = e.linkedid
            return self._set(e.interface, e.at, ringing=True)
        self._ringing_for.pop(e.interface, None)
        if isinstance(e, (ev.AgentRingNoAnswer, ev.AgentDump)):
            return self._set(e.interface, e.at, ringing=False)
        if isinstance(e, ev.AgentConnect):
            return self._set(e.interface, e.at, ringing=False, on_call=True)
        if isinstance(e, ev.AgentComplete):
            return self._set(e.interface, e.at, on_call=False)
        return None
