"""AMI messages -> typed call events. Pure: no I/O, no panoramisk types past this point.

Field names are those Asterisk 18+ emits (docs.asterisk.org, "AMI Events"). Unknown events
give None; unknown fields are ignored (with ``debug=on`` Asterisk adds SequenceNumber, File,
Line, Func); a malformed value is logged and the event skipped, never raised.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


class Malformed(ValueError):
    """A field we rely on is missing or unreadable."""


# --- channel events: every one carries the channel's own ids and its call's Linkedid ---


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    at: float  # epoch seconds: the event's Timestamp header, or when it was received
    linkedid: str
    uniqueid: str
    channel: str


@dataclass(frozen=True, slots=True)
class Newchannel(ChannelEvent):
    caller_num: str
    caller_name: str
    exten: str  # the number dialled, for an inbound channel the DID (e.g. 12345)
    context: str


@dataclass(frozen=True, slots=True)
class Hangup(ChannelEvent):
    cause: int | None
    cause_txt: str


@dataclass(frozen=True, slots=True)
class VarSet(ChannelEvent):
    variable: str
    value: str


@dataclass(frozen=True, slots=True)
class Newexten(ChannelEvent):
    context: str
    extension: str
    application: str
    app_data: str


@dataclass(frozen=True, slots=True)
class BridgeEnter(ChannelEvent):
    # A transfer moves a channel to another call: its Linkedid changes, seen here first.
    bridge_id: str


@dataclass(frozen=True, slots=True)
class DialBegin(ChannelEvent):
    dest_channel: str
    dest_uniqueid: str
    dest_caller_num: str
    dial_string: str


@dataclass(frozen=True, slots=True)
class DialEnd(ChannelEvent):
    dest_channel: str
    dest_uniqueid: str
    dest_caller_num: str
    dial_status: str  # ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL...


@dataclass(frozen=True, slots=True)
class QueueCallerJoin(ChannelEvent):
    queue: str
    position: int
    caller_num: str


@dataclass(frozen=True, slots=True)
class QueueCallerLeave(ChannelEvent):
    queue: str


@dataclass(frozen=True, slots=True)
class QueueCallerAbandon(ChannelEvent):
    queue: str
    hold_time: int  # seconds
    position: int
    original_position: int


@dataclass(frozen=True, slots=True)
class AgentEvent(ChannelEvent):
    """Agent* events: Channel/Uniqueid/Linkedid are the caller's; Dest* the agent leg."""

    queue: str
    interface: str
    member_name: str
    dest_channel: str
    dest_uniqueid: str


@dataclass(frozen=True, slots=True)
class AgentCalled(AgentEvent):
    pass


@dataclass(frozen=True, slots=True)
class AgentRingNoAnswer(AgentEvent):
    ring_seconds: float  # Asterisk sends RingTime in milliseconds here


@dataclass(frozen=True, slots=True)
class AgentConnect(AgentEvent):
    hold_time: int  # seconds the caller waited in the queue
    ring_time: int  # seconds this agent rang (seconds here, unlike AgentRingNoAnswer)


@dataclass(frozen=True, slots=True)
class AgentComplete(AgentEvent):
    hold_time: int
    talk_time: int
    reason: str  # caller, agent or transfer


@dataclass(frozen=True, slots=True)
class AgentDump(AgentEvent):
    pass


# --- transfers: not channel events, they name the calls involved by Linkedid ---


@dataclass(frozen=True, slots=True)
class BlindTransfer:
    at: float
    result: str
    transferer_linkedid: str
    transferee_linkedid: str
    extension: str
    context: str


@dataclass(frozen=True, slots=True)
class AttendedTransfer:
    at: float
    result: str
    orig_transferer_linkedid: str
    second_transferer_linkedid: str
    transferee_linkedid: str
    target_num: str


# --- queue members: agent state ---


@dataclass(frozen=True, slots=True)
class MemberEvent:
    at: float
    queue: str
    interface: str
    member_name: str
    status: int | None  # device state: 1 not in use, 2 in use, 5 unavailable, 6 ringing...
    paused: bool | None
    paused_reason: str
    in_call: bool | None


@dataclass(frozen=True, slots=True)
class QueueMemberAdded(MemberEvent):
    pass


@dataclass(frozen=True, slots=True)
class QueueMemberRemoved(MemberEvent):
    pass


@dataclass(frozen=True, slots=True)
class QueueMemberPause(MemberEvent):
    pass


@dataclass(frozen=True, slots=True)
class QueueMemberStatus(MemberEvent):
    pass


@dataclass(frozen=True, slots=True)
class QueueMember(MemberEvent):
    """One member in a QueueStatus reply."""


# --- replies to the bridge's own actions, and PBX life ---


@dataclass(frozen=True, slots=True)
class CoreShowChannel:
    """One live channel in a CoreShowChannels reply."""

    at: float
    linkedid: str
    uniqueid: str
    channel: str
    caller_num: str
    exten: str
    application: str
    application_data: str
    duration: int  # seconds


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One waiting caller in a QueueStatus reply."""

    at: float
    queue: str
    channel: str
    uniqueid: str
    linkedid: str
    caller_num: str
    position: int
    wait: int


@dataclass(frozen=True, slots=True)
class OriginateResponse:
    at: float
    action_id: str
    response: str  # Success or Failure
    channel: str
    reason: int | None
    uniqueid: str


@dataclass(frozen=True, slots=True)
class FullyBooted:
    at: float


@dataclass(frozen=True, slots=True)
class Shutdown:
    at: float
    restart: bool


CallEvent = (
    ChannelEvent
    | BlindTransfer
    | AttendedTransfer
    | MemberEvent
    | CoreShowChannel
    | QueueEntry
    | OriginateResponse
    | FullyBooted
    | Shutdown
)


# --- parsing ---


def _s(m: Mapping[str, Any], key: str) -> str:
    v = m.get(key)
    if v is None:
        return ""
    if isinstance(v, list):  # a repeated header: panoramisk gives a list
        v = v[-1]
    return str(v)


def _req(m: Mapping[str, Any], key: str) -> str:
    v = _s(m, key)
    if not v:
        raise Malformed(f"missing {key}")
    return v


def _int(m: Mapping[str, Any], key: str) -> int:
    v = _s(m, key)
    try:
        return int(v)
    except ValueError:
        raise Malformed(f"{key}={v!r} is not an integer") from None


def _opt_int(m: Mapping[str, Any], key: str) -> int | None:
    v = _s(m, key)
    if v == "":
        return None
    try:
        return int(v)
    except ValueError:
        raise Malformed(f"{key}={v!r} is not an integer") from None


def _opt_bool(m: Mapping[str, Any], key: str) -> bool | None:
    v = _s(m, key).lower()
    if v in ("1", "true", "yes"):
        return True
    if v in ("0", "false", "no"):
        return False
    return None


def _duration(m: Mapping[str, Any], key: str) -> int:
    # CoreShowChannel Duration is HH:MM:SS
    v = _s(m, key)
    try:
        h, mi, s = v.split(":")
        return int(h) * 3600 + int(mi) * 60 + int(s)
    except ValueError:
        raise Malformed(f"{key}={v!r} is not HH:MM:SS") from None


def _chan(m: Mapping[str, Any], at: float) -> tuple[float, str, str, str]:
    return at, _req(m, "Linkedid"), _req(m, "Uniqueid"), _s(m, "Channel")


def _agent(m: Mapping[str, Any], at: float) -> tuple[Any, ...]:
    return (
        *_chan(m, at),
        _s(m, "Queue"),
        _req(m, "Interface"),
        _s(m, "MemberName"),
        _s(m, "DestChannel"),
        _s(m, "DestUniqueid"),
    )


def _member(m: Mapping[str, Any], at: float, interface_key: str = "Interface",
            name_key: str = "MemberName") -> tuple[Any, ...]:
    return (
        at,
        _s(m, "Queue"),
        _req(m, interface_key),
        _s(m, name_key),
        _opt_int(m, "Status"),
        _opt_bool(m, "Paused"),
        _s(m, "PausedReason"),
        _opt_bool(m, "InCall"),
    )


_Builder = Callable[[Mapping[str, Any], float], Any]

_BUILDERS: dict[str, _Builder] = {
    "newchannel": lambda m, at: Newchannel(
        *_chan(m, at), _s(m, "CallerIDNum"), _s(m, "CallerIDName"), _s(m, "Exten"),
        _s(m, "Context")),
    "hangup": lambda m, at: Hangup(*_chan(m, at), _opt_int(m, "Cause"), _s(m, "Cause-txt")),
    "varset": lambda m, at: VarSet(*_chan(m, at), _s(m, "Variable"), _s(m, "Value")),
    "newexten": lambda m, at: Newexten(
        *_chan(m, at), _s(m, "Context"), _s(m, "Extension") or _s(m, "Exten"),
        _s(m, "Application"), _s(m, "AppData")),
    "bridgeenter": lambda m, at: BridgeEnter(*_chan(m, at), _s(m, "BridgeUniqueid")),
    "dialbegin": lambda m, at: DialBegin(
        *_chan(m, at), _s(m, "DestChannel"), _s(m, "DestUniqueid"), _s(m, "DestCallerIDNum"),
        _s(m, "DialString")),
    "dialend": lambda m, at: DialEnd(
        *_chan(m, at), _s(m, "DestChannel"), _s(m, "DestUniqueid"), _s(m, "DestCallerIDNum"),
        _s(m, "DialStatus")),
    "queuecallerjoin": lambda m, at: QueueCallerJoin(
        *_chan(m, at), _req(m, "Queue"), _int(m, "Position"), _s(m, "CallerIDNum")),
    "queuecallerleave": lambda m, at: QueueCallerLeave(*_chan(m, at), _req(m, "Queue")),
    "queuecallerabandon": lambda m, at: QueueCallerAbandon(
        *_chan(m, at), _req(m, "Queue"), _int(m, "HoldTime"), _int(m, "Position"),
        _int(m, "OriginalPosition")),
    "agentcalled": lambda m, at: AgentCalled(*_agent(m, at)),
    "agentringnoanswer": lambda m, at: AgentRingNoAnswer(
        *_agent(m, at), _int(m, "RingTime") / 1000.0),
    "agentconnect": lambda m, at: AgentConnect(
        *_agent(m, at), _int(m, "HoldTime"), _int(m, "RingTime")),
    "agentcomplete": lambda m, at: AgentComplete(
        *_agent(m, at), _int(m, "HoldTime"), _int(m, "TalkTime"), _s(m, "Reason")),
    "agentdump": lambda m, at: AgentDump(*_agent(m, at)),
    "blindtransfer": lambda m, at: BlindTransfer(
        at, _s(m, "Result"), _s(m, "TransfererLinkedid"), _s(m, "TransfereeLinkedid"),
        _s(m, "Extension"), _s(m, "Context")),
    "attendedtransfer": lambda m, at: AttendedTransfer(
        at, _s(m, "Result"), _s(m, "OrigTransfererLinkedid"),
        _s(m, "SecondTransfererLinkedid"), _s(m, "TransfereeLinkedid"),
        _s(m, "TransferTargetCallerIDNum")),
    "queuememberadded": lambda m, at: QueueMemberAdded(*_member(m, at)),
    "queuememberremoved": lambda m, at: QueueMemberRemoved(*_member(m, at)),
    "queuememberpause": lambda m, at: QueueMemberPause(*_member(m, at)),
    "queuememberstatus": lambda m, at: QueueMemberStatus(*_member(m, at)),
    # In a QueueStatus reply the interface is "Location" and the member name "Name".
    "queuemember": lambda m, at: QueueMember(*_member(m, at, "Location", "Name")),
    "queueentry": lambda m, at: QueueEntry(
        at, _req(m, "Queue"), _s(m, "Channel"), _s(m, "Uniqueid"), _s(m, "Linkedid"),
        _s(m, "CallerIDNum"), _int(m, "Position"), _int(m, "Wait")),
    "coreshowchannel": lambda m, at: CoreShowChannel(
        at, _req(m, "Linkedid"), _req(m, "Uniqueid"), _s(m, "Channel"), _s(m, "CallerIDNum"),
        _s(m, "Exten"), _s(m, "Application"), _s(m, "ApplicationData"),
        _duration(m, "Duration")),
    "originateresponse": lambda m, at: OriginateResponse(
        at, _s(m, "ActionID"), _s(m, "Response"), _s(m, "Channel"), _opt_int(m, "Reason"),
        _s(m, "Uniqueid")),
    "fullybooted": lambda m, at: FullyBooted(at),
    "shutdown": lambda m, at: Shutdown(at, _s(m, "Restart").lower() in ("true", "yes", "1")),
}


# nan, inf, negative or far-future times are broken headers, and must never reach a call's
# record: datetime refuses them, and one such call once stopped every reconcile.
LATEST_TIME = 4_102_444_800.0  # 2100-01-01


def sane_time(value: float) -> bool:
    return math.isfinite(value) and 0.0 <= value < LATEST_TIME


def event_time(message: Mapping[str, Any], received_at: float,
               max_skew: float | None = None) -> float:
    """The event's own Timestamp (manager.conf timestampevents=yes) or when it arrived.

    A Timestamp that is not a number, not finite, outside 1970..2100, or (with ``max_skew``)
    further than that many seconds from the arrival time is logged and replaced by the
    arrival time: one bad header must not poison a call's record.
    """
    ts = _s(message, "Timestamp")
    if not ts:
        return received_at
    try:
        value = float(ts)
    except ValueError:
        value = math.nan
    if not sane_time(value):
        log.warning("ami.malformed_timestamp value=%r event=%s", ts, _s(message, "Event"))
        return received_at
    if max_skew is not None and abs(value - received_at) > max_skew:
        log.warning("ami.skewed_timestamp value=%r received_at=%.3f event=%s", ts, received_at,
                    _s(message, "Event"))
        return received_at
    return value


def parse(message: Mapping[str, Any], received_at: float,
          max_skew: float | None = None) -> CallEvent | None:
    """A typed event for an AMI event we use, None for anything else or anything malformed."""
    name = _s(message, "Event")
    build = _BUILDERS.get(name.lower())
    if build is None:
        return None
    try:
        return build(message, event_time(message, received_at, max_skew))  # type: ignore[no-any-return]
    except Malformed as exc:
        log.warning("ami.malformed_event event=%s linkedid=%s error=%s",
                    name, _s(message, "Linkedid") or "-", exc)
        return None
