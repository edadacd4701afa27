"""Scripts of realistic queue traffic for the AMI simulator: one call = a list of steps.

Fields and order follow what Asterisk 18 with PJSIP and app_queue emits for an inbound call
to the 12345 queue (strategy rrmemory, so agents ring one at a time). Offsets are in PBX
seconds; the simulator divides them by its speed factor.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Fields = dict[str, str]

QUEUE = "12345"
DID = "12345"
INBOUND_CONTEXT = "from-pstn"
AGENT_CONTEXT = "from-internal"


@dataclass(frozen=True)
class Member:
    interface: str  # PJSIP/7001
    name: str


DEFAULT_MEMBERS: tuple[Member, ...] = (
    Member("PJSIP/7001", "Wang Fang"),
    Member("PJSIP/7002", "Li Na"),
    Member("PJSIP/7003", "Zhang Wei"),
)


@dataclass(frozen=True)
class Step:
    at: float  # seconds after the call began, PBX time
    event: Fields | None = None  # an AMI event (without Timestamp, added when sent)
    restart_pbx: float | None = None  # instead of an event: restart, down this many seconds
    channel_up: tuple[str, Fields] | None = None  # (uniqueid, CoreShowChannel fields)
    channel_down: str | None = None  # uniqueid no longer live


@dataclass
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    caller_num: str
    caller_name: str
    context: str
    exten: str
    state: int = 4  # Ring
    connected_num: str = "<unknown>"
    connected_name: str = "<unknown>"
    priority: int = 1
    application: str = ""
    application_data: str = ""
    started: float = 0.0

    _STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}

    def fields(self, prefix: str = "") -> Fields:
        return {
            f"{prefix}Channel": self.name,
            f"{prefix}ChannelState": str(self.state),
            f"{prefix}ChannelStateDesc": self._STATE_DESC.get(self.state, "Unknown"),
            f"{prefix}CallerIDNum": self.caller_num,
            f"{prefix}CallerIDName": self.caller_name,
            f"{prefix}ConnectedLineNum": self.connected_num,
            f"{prefix}ConnectedLineName": self.connected_name,
            f"{prefix}Language": "zh",
            f"{prefix}AccountCode": "",
            f"{prefix}Context": self.context,
            f"{prefix}Exten": self.exten,
            f"{prefix}Priority": str(self.priority),
            f"{prefix}Uniqueid": self.uniqueid,
            f"{prefix}Linkedid": self.linkedid,
        }

    def show(self, duration: float) -> Fields:
        """The CoreShowChannel fields of this channel."""
        d = int(duration)
        return {
            **self.fields(),
            "Application": self.application,
            "ApplicationData": self.application_data,
            "Duration": f"{d // 3600:02d}:{d % 3600 // 60:02d}:{d % 60:02d}",
            "BridgeId": "",
        }


@dataclass
class Ids:
    """Uniqueids and channel names as one PBX hands them out (epoch.sequence)."""

    epoch: int
    seq: itertools.count = field(default_factory=itertools.count)
    chan: itertools.count = field(default_factory=lambda: itertools.count(1))
    citizens: itertools.count = field(default_factory=lambda: itertools.count(13800138000))

    def uniqueid(self) -> str:
        return f"{self.epoch}.{next(self.seq)}"

    def channel(self, device: str) -> str:
        return f"{device}-{next(self.chan):08x}"

    def citizen(self) -> str:
        return str(next(self.citizens))


class Script:
    """Builds one call's steps, keeping each channel's state as the events would show it."""

    def __init__(self, ids: Ids, caller_num: str | None = None):
        self.ids = ids
        self.steps: list[Step] = []
        self.caller = self._new_channel(
            "PJSIP/trunk", caller_num or ids.citizen(), INBOUND_CONTEXT, DID, linkedid=None)
        self.linkedid = self.caller.uniqueid
        self.hold_start = 0.0

    def _new_channel(self, device: str, num: str, context: str, exten: str,
                     linkedid: str | None, name: str = "") -> Channel:
        uid = self.ids.uniqueid()
        return Channel(self.ids.channel(device), uid, linkedid or uid, num, name or num,
                       context, exten)

    def emit(self, at: float, event: str, privilege: str, *parts: Fields) -> None:
        fields: Fields = {"Event": event, "Privilege": privilege}
        for p in parts:
            fields.update(p)
        self.steps.append(Step(at, event=fields))

    def up(self, at: float, ch: Channel) -> None:
        self.steps.append(Step(at, channel_up=(ch.uniqueid, ch.show(0))))

    # -- building blocks --

    def arrive(self, at: float) -> None:
        c = self.caller
        self.emit(at, "Newchannel", "call,all", c.fields())
        self.up(at, c)
        c.state = 6
        self.emit(at, "Newstate", "call,all", c.fields())

    def ivr(self, at: float, choice: str) -> None:
        c = self.caller
        c.context, c.exten, c.priority = "ivr-12345", choice, 1
        c.application, c.application_data = "Set", f"IVR_CHOICE={choice}"
        self.emit(at, "Newexten", "dialplan,all", c.fields(),
                  {"Extension": choice, "Application": "Set", "AppData": f"IVR_CHOICE={choice}"})
        self.emit(at, "VarSet", "dialplan,all", c.fields(),
                  {"Variable": "IVR_CHOICE", "Value": choice})

    def join(self, at: float, position: int = 1) -> None:
        c = self.caller
        c.context, c.exten, c.priority = "queue-12345", "s", 2
        c.application, c.application_data = "Queue", f"{QUEUE},t,,,300"
        self.emit(at, "Newexten", "dialplan,all", c.fields(),
                  {"Extension": "s", "Application": "Queue", "AppData": c.application_data})
        self.up(at, c)
        self.emit(at, "QueueCallerJoin", "agent,all", c.fields(),
                  {"Queue": QUEUE, "Position": str(position), "Count": str(position)})
        self.hold_start = at

    def ring(self, at: float, m: Member) -> Channel:
        c = self.caller
        device = m.interface.split("/", 1)[1]
        a = self._new_channel(m.interface, device, AGENT_CONTEXT, device, c.linkedid, m.name)
        a.state, a.connected_num, a.connected_name = 0, c.caller_num, c.caller_name
        self.emit(at, "Newchannel", "call,all", a.fields())
        self.up(at, a)
        self.emit(at, "AgentCalled", "agent,all", c.fields(), a.fields("Dest"),
                  {"Queue": QUEUE, "Interface": m.interface, "MemberName": m.name})
        self.emit(at, "DialBegin", "call,all", c.fields(), a.fields("Dest"),
                  {"DialString": m.interface.split("/", 1)[1]})
        a.state = 5
        self.emit(at, "Newstate", "call,all", a.fields())
        return a

    def no_answer(self, at: float, m: Member, a: Channel, rang: float) -> None:
        c = self.caller
        self.emit(at, "DialEnd", "call,all", c.fields(), a.fields("Dest"),
                  {"DialStatus": "NOANSWER"})
        self.emit(at, "AgentRingNoAnswer", "agent,all", c.fields(), a.fields("Dest"),
                  {"Queue": QUEUE, "Interface": m.interface, "MemberName": m.name,
                   "RingTime": str(int(rang * 1000))})  # milliseconds, as Asterisk does
        self.hangup(at, a, 16, "Normal Clearing")

    def connect(self, at: float, m: Member, a: Channel, rang: float) -> None:
        c = self.caller
        a.state = 6
        c.connected_num, c.connected_name = a.caller_num, a.caller_name
        self.emit(at, "Newstate", "call,all", a.fields())
        self.emit(at, "DialEnd", "call,all", c.fields(), a.fields("Dest"),
                  {"DialStatus": "ANSWER"})
        self.emit(at, "QueueCallerLeave", "agent,all", c.fields(),
                  {"Queue": QUEUE, "Position": "1", "Count": "0"})
        self.emit(at, "AgentConnect", "agent,all", c.fields(), a.fields("Dest"),
                  {"Queue": QUEUE, "Interface": m.interface, "MemberName": m.name,
                   "HoldTime": str(int(at - self.hold_start)), "RingTime": str(int(rang))})
        bridge = {"BridgeUniqueid": f"bridge-{c.linkedid}", "BridgeType": "basic",
                  "BridgeTechnology": "simple_bridge", "BridgeNumChannels": "1"}
        self.emit(at, "BridgeEnter", "call,all", bridge, a.fields())
        self.emit(at, "BridgeEnter", "call,all", {**bridge, "BridgeNumChannels": "2"}, c.fields())

    def complete(self, at: float, m: Member, a: Channel, answered: float, reason: str) -> None:
        c = self.caller
        self.emit(at, "AgentComplete", "agent,all", c.fields(), a.fields("Dest"),
                  {"Queue": QUEUE, "Interface": m.interface, "MemberName": m.name,
                   "HoldTime": str(int(answered - self.hold_start)),
                   "TalkTime": str(int(at - answered)), "Reason": reason})

    def hangup(self, at: float, ch: Channel, cause: int, text: str) -> None:
        self.emit(at, "HangupRequest", "call,all", ch.fields())
        self.emit(at, "Hangup", "call,all", ch.fields(), {"Cause": str(cause), "Cause-txt": text})
        self.steps.append(Step(at, channel_down=ch.uniqueid))


ScriptFn = Callable[[Ids, Sequence[Member], int], list[Step]]


def answered(ids: Ids, members: Sequence[Member], n: int = 0, *, wait: float = 12,
             talk: float = 95) -> list[Step]:
    s = Script(ids)
    m = members[n % len(members)]
    s.arrive(0)
    s.join(1)
    a = s.ring(1, m)
    s.connect(1 + wait, m, a, rang=wait)
    end = 1 + wait + talk
    s.complete(end, m, a, 1 + wait, "caller")
    s.hangup(end, s.caller, 16, "Normal Clearing")
    s.hangup(end, a, 16, "Normal Clearing")
    return s.steps


def ring_no_answer(ids: Ids, members: Sequence[Member], n: int = 0) -> list[Step]:
    s = Script(ids)
    first, second = members[n % len(members)], members[(n + 1) % len(members)]
    s.arrive(0)
    s.join(1)
    a = s.ring(1, first)
    s.no_answer(16, first, a, rang=15)
    b = s.ring(18, second)  # retry=2 in queues.conf
    s.connect(22, second, b, rang=4)
    s.complete(140, second, b, 22, "agent")
    s.hangup(140, b, 16, "Normal Clearing")
    s.hangup(140, s.caller, 16, "Normal Clearing")
    return s.steps


def abandoned(ids: Ids, members: Sequence[Member], n: int = 0) -> list[Step]:
    s = Script(ids)
    m = members[n % len(members)]
    s.arrive(0)
    s.join(1)
    a = s.ring(1, m)
    c = s.caller
    s.emit(9, "QueueCallerAbandon", "agent,all", c.fields(),
           {"Queue": QUEUE, "Position": "1", "OriginalPosition": "1", "HoldTime": "8"})
    s.emit(9, "QueueCallerLeave", "agent,all", c.fields(),
           {"Queue": QUEUE, "Position": "1", "Count": "0"})
    s.emit(9, "DialEnd", "call,all", c.fields(), a.fields("Dest"), {"DialStatus": "CANCEL"})
    s.hangup(9, a, 16, "Normal Clearing")
    s.hangup(9, c, 16, "Normal Clearing")
    return s.steps


def queue_timeout(ids: Ids, members: Sequence[Member], n: int = 0) -> list[Step]:
    s = Script(ids)
    m = members[n % len(members)]
    s.arrive(0)
    s.join(1)
    a = s.ring(1, m)
    s.no_answer(16, m, a, rang=15)
    c = s.caller
    # The queue's timeout (Queue(12345,t,,,60)) ends the wait; the dialplan says goodbye.
    s.emit(61, "QueueCallerLeave", "agent,all", c.fields(),
           {"Queue": QUEUE, "Position": "1", "Count": "0"})
    s.hangup(70, c, 16, "Normal Clearing")
    return s.steps


def timeout_to_voicemail(ids: Ids, members: Sequence[Member], n: int = 0) -> list[Step]:
    """The queue's timeout lets the caller go after 9 s (Queue(12345,t,,,9)); the dialplan then
    takes a voicemail, and the caller stays on the line another 30 s before hanging up."""
    s = Script(ids)
    m = members[n % len(members)]
    s.arrive(0)
    s.join(1)
    a = s.ring(1, m)
    s.no_answer(8, m, a, rang=7)
    c = s.caller
    s.emit(10, "QueueCallerLeave", "agent,all", c.fields(),
           {"Queue": QUEUE, "Position": "1", "Count": "0"})
    c.context, c.exten, c.priority = "queue-12345", "s", 3
    c.application, c.application_data = "VoiceMail", "12345@default,u"
    s.emit(10, "Newexten", "dialplan,all", c.fields(),
           {"Extension": "s", "Application": "VoiceMail", "AppData": c.application_data})
    s.hangup(40, c, 16, "Normal Clearing")
    return s.steps


def ivr_only(ids: Ids, members: Sequence[Member], n: int = 0) -> list[Step]:
    s = Script(ids)
    s.arrive(0)
    s.ivr(6, "9")  # 9: recorded information, no operator
    s.hangup(40, s.caller, 16, "Normal Clearing")
    return s.steps


def transfer(ids: Ids, members: Sequence[Member], n: int = 0) -> list[Step]:
    s = Script(ids)
    m = members[n % len(members)]
    s.arrive(0)
    s.join(1)
    a = s.ring(1, m)
    s.connect(6, m, a, rang=5)
    c = s.caller
    # The operator blind-transfers the citizen to a unit's line (8000).
    s.emit(66, "BlindTransfer", "call,all",
           {f"Transferer{k}": v for k, v in a.fields().items()},
           {f"Transferee{k}": v for k, v in c.fields().items()},
           {"BridgeUniqueid": f"bridge-{c.linkedid}", "BridgeType": "basic",
            "BridgeTechnology": "simple_bridge", "BridgeNumChannels": "2",
            "IsExternal": "No", "Result": "Success", "Context": AGENT_CONTEXT,
            "Extension": "8000"})
    s.complete(66, m, a, 6, "transfer")
    s.hangup(66, a, 16, "Normal Clearing")
    unit = s._new_channel("PJSIP/8000", "8000", AGENT_CONTEXT, "8000", c.linkedid, "Unit 8000")
    s.emit(66, "Newchannel", "call,all", unit.fields())
    s.up(66, unit)
    s.emit(66, "DialBegin", "call,all", c.fields(), unit.fields("Dest"), {"DialString": "8000"})
    unit.state = 6
    s.emit(70, "DialEnd", "call,all", c.fields(), unit.fields("Dest"), {"DialStatus": "ANSWER"})
    s.hangup(200, unit, 16, "Normal Clearing")
    s.hangup(200, c, 16, "Normal Clearing")
    return s.steps


def restart_mid_call(ids: Ids, members: Sequence[Member], n: int = 0,
                     downtime: float = 5) -> list[Step]:
    """An answered call, then the PBX restarts while they talk: its Hangup never comes."""
    s = Script(ids)
    m = members[n % len(members)]
    s.arrive(0)
    s.join(1)
    a = s.ring(1, m)
    s.connect(5, m, a, rang=4)
    s.steps.append(Step(30, restart_pbx=downtime))
    return s.steps


SCRIPTS: dict[str, ScriptFn] = {
    "answered": answered,
    "ring_no_answer": ring_no_answer,
    "abandoned": abandoned,
    "timeout": queue_timeout,
    "timeout_to_voicemail": timeout_to_voicemail,
    "ivr_only": ivr_only,
    "transfer": transfer,
    "restart": restart_mid_call,
}
# "burst" is not a script: the simulator starts N "answered" calls at once.
SCENARIOS: tuple[str, ...] = (*SCRIPTS, "burst")
DEMO_ROTATION: tuple[str, ...] = (
    "answered", "ring_no_answer", "answered", "abandoned", "ivr_only", "transfer",
    "timeout", "burst",
)
