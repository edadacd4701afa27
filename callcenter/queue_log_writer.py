"""What app_queue writes to queue_log for the AMI events the simulator plays, so the
simulator leaves the same trail as a PBX and the bridge can recover an outage from it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from callcenter.queue_log import NONE, QueueLogEntry

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    uniqueid: str
    queue: str
    joined: float
    left: float | None = None
    done: bool = False


class QueueLogWriter:
    """Feed it every event with its PBX time; it appends queue_log lines to ``path``."""

    def __init__(self, path: Path, *, membername_as_agent: bool = False) -> None:
        self.path = path
        self.membername_as_agent = membername_as_agent  # queues.conf log_membername_as_agent
        self._calls: dict[str, _Waiting] = {}  # by the caller's Uniqueid
        self._transfers: dict[str, tuple[str, str]] = {}  # Linkedid -> (extension, context)
        self._dialed: dict[str, str] = {}  # caller Uniqueid -> the number it dialled

    def observe(self, f: Mapping[str, str], at: float) -> None:
        name, uid = f.get("Event", ""), f.get("Uniqueid", "")
        call = self._calls.get(uid)
        if call is not None and call.left is not None and not call.done:
            # Left the queue, and the next thing is not an agent: the queue's timeout ended it.
            if name != "AgentConnect":
                self._write(call.left, call, NONE, "EXITWITHTIMEOUT", "1", "1",
                            str(int(call.left - call.joined)))
            call.done = True
        if name == "Newchannel" and uid == f.get("Linkedid"):
            self._dialed[uid] = f.get("Exten", "")
        elif name == "QueueCallerJoin":
            call = self._calls[uid] = _Waiting(uid, f.get("Queue", ""), at)
            if self._dialed.get(uid):
                self._write(at, call, NONE, "DID", self._dialed[uid])
            self._write(at, call, NONE, "ENTERQUEUE", "", f.get("CallerIDNum", ""),
                        f.get("Position", "1"))
        elif name == "BlindTransfer":
            self._transfers[f.get("TransfereeLinkedid", "")] = (f.get("Extension", ""),
                                                                 f.get("Context", ""))
        elif call is None:
            return
        elif name == "QueueCallerLeave" and not call.done:
            call.left = at
        elif name == "QueueCallerAbandon":
            self._write(at, call, NONE, "ABANDON", f.get("Position", "1"),
                        f.get("OriginalPosition", "1"), f.get("HoldTime", "0"))
            call.done = True
        elif name == "AgentRingNoAnswer":
            self._write(at, call, self._agent(f), "RINGNOANSWER", f.get("RingTime", "0"))
        elif name == "AgentConnect":
            call.done = True
            self._write(at, call, self._agent(f), "CONNECT", f.get("HoldTime", "0"),
                        f.get("DestUniqueid", ""), f.get("RingTime", "0"))
        elif name == "AgentComplete":
            hold, talk, reason = f.get("HoldTime", "0"), f.get("TalkTime", "0"), f.get("Reason")
            if reason == "transfer":
                ext, context = self._transfers.pop(f.get("Linkedid", ""), ("", ""))
                self._write(at, call, self._agent(f), "BLINDTRANSFER", ext, context, hold, talk, "1")
            else:
                event = "COMPLETEAGENT" if reason == "agent" else "COMPLETECALLER"
                self._write(at, call, self._agent(f), event, hold, talk, "1")
            del self._calls[uid]
        elif name == "Hangup":
            self._calls.pop(uid, None)
        if name == "Hangup":
            self._dialed.pop(uid, None)

    def _agent(self, f: Mapping[str, str]) -> str:
        if self.membername_as_agent and f.get("MemberName"):
            return f["MemberName"]
        return f.get("Interface", NONE)

    def _write(self, at: float, call: _Waiting, agent: str, event: str, *data: str) -> None:
        line = QueueLogEntry(at, call.uniqueid, call.queue or NONE, agent, event, data).line()
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            log.warning("sim.queue_log_failed path=%s error=%s", self.path, exc)
