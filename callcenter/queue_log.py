"""Asterisk's queue_log -> call records, for the calls that came and went while the AMI link
was down (the PBX writes queue_log whether or not anyone listens).

One line per queue event, ``epoch|callid|queuename|agent|event|data1|data2|...`` in the file
(logger.conf ``queue_log_to_file``), or a row of the realtime ``queue_log`` table (columns
time, callid, queuename, agent, event, data1..data5; time in UTC, as logger.conf
``queue_log_realtime_use_gmt = yes`` writes it). The
callid is the Uniqueid of the caller's channel in the queue, which for a call from the trunk
is also the call's Linkedid: the key the bridge writes calls by.

Data fields, from Asterisk's queue_log documentation:
ENTERQUEUE(url|callerid|position) CONNECT(holdtime|bridged uniqueid|ringtime)
COMPLETECALLER / COMPLETEAGENT(holdtime|calltime|origposition) RINGNOANSWER(ringtime ms)
ABANDON / EXITWITHTIMEOUT / EXITEMPTY(position|origposition|waittime)
EXITWITHKEY(key|position|origposition|waittime)
TRANSFER / BLINDTRANSFER(extension|context|holdtime|calltime|origposition)
ATTENDEDTRANSFER(method|target|holdtime|calltime|origposition)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from callcenter.calls import CallRecord, Outcome
from callcenter.events import sane_time
from dispatch.models import QueueLogRow

log = logging.getLogger(__name__)

NONE = "NONE"


@dataclass(frozen=True, slots=True)
class QueueLogEntry:
    at: float  # epoch seconds
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...] = ()

    def field(self, n: int) -> str:
        """data1 is field(1)."""
        return self.data[n - 1] if len(self.data) >= n else ""

    def number(self, n: int) -> float | None:
        try:
            return float(self.field(n))
        except ValueError:
            return None

    def line(self) -> str:
        return "|".join((f"{self.at:.0f}", self.callid, self.queue, self.agent, self.event,
                         *self.data))


def parse_line(line: str) -> QueueLogEntry | None:
    """One file line; None for a comment, a blank or a malformed line (logged)."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    parts = text.split("|")
    try:
        at = float(parts[0])
    except ValueError:
        at = float("nan")
    if len(parts) < 5 or not sane_time(at):
        log.warning("queue_log.malformed_line line=%r", text[:200])
        return None
    return QueueLogEntry(at, parts[1], parts[2], parts[3], parts[4].upper(), tuple(parts[5:]))


def read_file(path: Path, since: float) -> list[QueueLogEntry]:
    """Entries at or after ``since`` in the file (blocking: run it in a thread)."""
    out = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            entry = parse_line(line)
            if entry is not None and entry.at >= since:
                out.append(entry)
    return out


def read_table(engine: Engine, since: float) -> list[QueueLogEntry]:
    """Entries at or after ``since`` in the realtime table (blocking: run it in a thread).

    Asterisk writes ``time`` without a zone: in UTC with ``queue_log_realtime_use_gmt = yes``
    (docker/asterisk/logger.conf), which this reader expects.
    """
    start = _naive_utc(since)
    query = select(QueueLogRow).where(QueueLogRow.time >= start).order_by(QueueLogRow.time,
                                                                          QueueLogRow.id)
    out = []
    with engine.connect() as connection:
        for row in connection.execute(query).mappings():
            time = row["time"]
            if time.tzinfo is None:
                time = time.replace(tzinfo=dt.timezone.utc)
            at = time.timestamp()
            data = tuple(row[f"data{i}"] or "" for i in range(1, 6))
            while data and not data[-1]:
                data = data[:-1]
            out.append(QueueLogEntry(at, row["callid"] or NONE, row["queuename"] or NONE,
                                     row["agent"] or NONE, (row["event"] or "").upper(), data))
    return out


def table_row(entry: QueueLogEntry) -> dict[str, object]:
    """The realtime table's row for an entry, as Asterisk would write it."""
    data = list(entry.data[:5]) + [""] * (5 - min(5, len(entry.data)))
    return {"time": _naive_utc(entry.at), "callid": entry.callid,
            "queuename": entry.queue, "agent": entry.agent, "event": entry.event,
            **{f"data{i}": data[i - 1] for i in range(1, 6)}}


def _naive_utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).replace(tzinfo=None)


# -- entries -> calls --

_LEFT_UNANSWERED: dict[str, Outcome] = {
    "ABANDON": "abandoned",
    "EXITWITHTIMEOUT": "timeout",
    "EXITEMPTY": "timeout",
    "EXITWITHKEY": "timeout",
    "JOINEMPTY": "timeout",
    "JOINUNAVAIL": "timeout",
    "FULL": "timeout",
}
_WAIT_FIELD = {"ABANDON": 3, "EXITWITHTIMEOUT": 3, "EXITEMPTY": 3, "EXITWITHKEY": 4}
_COMPLETED = frozenset({"COMPLETECALLER", "COMPLETEAGENT"})
_TRANSFERS = frozenset({"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"})
FINAL_EVENTS = frozenset(_LEFT_UNANSWERED) | _COMPLETED | _TRANSFERS


def _dt(ts: float | None) -> dt.datetime | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc)


def _call(linkedid: str, entries: list[QueueLogEntry],
          interfaces: Mapping[str, str]) -> CallRecord | None:
    caller = dialed = ""
    queue = agent = transferred_to = None
    joined = answered = ended = None
    wait = talk = None
    rung: list[str] = []
    no_answers: list[str] = []
    outcome: Outcome | None = None
    for e in entries:
        who = interfaces.get(e.agent, e.agent) if e.agent != NONE else None
        if e.event == "DID":
            dialed = e.field(1)
        elif e.event == "ENTERQUEUE":
            queue, joined = e.queue, e.at
            caller = e.field(2) or caller
        elif e.event == "RINGNOANSWER" and who:
            no_answers.append(who)
            if who not in rung:
                rung.append(who)
        elif e.event == "CONNECT":
            agent, answered, wait = who, e.at, e.number(1)
            if who and who not in rung:
                rung.append(who)
        elif e.event in _COMPLETED:
            outcome, ended = "answered", e.at
            agent = agent or who
            wait, talk = e.number(1) if wait is None else wait, e.number(2)
        elif e.event in _TRANSFERS:
            outcome, ended = "transferred", e.at
            agent = agent or who
            transferred_to = e.field(2) if e.event == "ATTENDEDTRANSFER" else e.field(1)
            talk = e.number(4)
        elif e.event in _LEFT_UNANSWERED:
            outcome, ended = _LEFT_UNANSWERED[e.event], e.at
            queue = queue or e.queue
            if e.event in _WAIT_FIELD:
                wait = e.number(_WAIT_FIELD[e.event])
        if outcome is not None:
            break
    if outcome is None or ended is None:
        return None  # still going on: the live events (or reconcile) will tell
    start = joined if joined is not None else entries[0].at
    if answered is None and outcome in ("answered", "transferred"):
        answered = ended - (talk or 0.0)
    return CallRecord(
        linkedid=linkedid, outcome=outcome, caller_num=caller, dialed_num=dialed,
        started_at=_dt(start),  # type: ignore[arg-type]
        queue=queue, queue_entered_at=_dt(joined), agents_rung=tuple(rung),
        ring_no_answers=tuple(no_answers), agent=agent, answered_at=_dt(answered),
        ended_at=_dt(ended), wait_seconds=wait, talk_seconds=talk,
        transferred_to=transferred_to or None, recovered=True)


def calls_from(entries: Iterable[QueueLogEntry], *, ended_since: float,
               linkedid_of: Mapping[str, str] | None = None,
               interfaces: Mapping[str, str] | None = None) -> list[CallRecord]:
    """The calls whose queue_log shows them over at or after ``ended_since``, oldest first.

    ``linkedid_of`` maps a caller channel's Uniqueid to its call's Linkedid where the bridge
    saw it differ (a Local channel in front of the queue); otherwise the callid is the
    Linkedid. ``interfaces`` maps member names to interfaces, for queue_log written with
    ``log_membername_as_agent = yes``.
    """
    groups: dict[str, list[QueueLogEntry]] = {}
    for e in entries:
        if e.callid and e.callid != NONE:
            groups.setdefault(e.callid, []).append(e)
    out = []
    for callid, group in groups.items():
        group.sort(key=lambda e: e.at)
        if not any(e.event in FINAL_EVENTS and e.at >= ended_since for e in group):
            continue
        linkedid = (linkedid_of or {}).get(callid, callid)
        try:
            record = _call(linkedid, group, interfaces or {})
        except Exception:  # one odd call must not cost the others
            log.exception("queue_log.call_failed callid=%s", callid)
            continue
        if record is not None:
            out.append(record)
    out.sort(key=lambda r: r.started_at)
    return out
