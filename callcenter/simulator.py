"""An AMI server that behaves like Asterisk's manager for the bridge, demos and tests.

It speaks the wire protocol (banner, ``Key: Value`` lines, blank-line framing, ActionID echo,
event lists), authenticates plain and MD5 logins, and plays scripted calls (scenarios.py) to
every logged-in session. ``restart()`` drops every connection and forgets all calls, as a PBX
restart does; ``cut_link()`` / ``restore_link()`` drop and refuse connections while calls go
on, as a network outage between the PBX and the hotline does. With ``queue_log`` it appends
the PBX's queue_log lines for the calls it plays, connected or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from callcenter import scenarios as sc
from callcenter.queue_log_writer import QueueLogWriter
from callcenter.wire import EOL, encode

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Session:
    writer: asyncio.StreamWriter
    peer: str
    authenticated: bool = False
    events: bool = True
    challenge: str | None = None

    def send(self, fields: Mapping[str, str]) -> None:
        if not self.writer.is_closing():
            self.writer.write(encode(fields))


@dataclass
class _MemberState:
    member: sc.Member
    in_call: bool = False
    calls_taken: int = 0
    last_call: int = 0
    paused: bool = False
    paused_reason: str = ""
    last_pause: int = 0


@dataclass
class _Live:
    fields: dict[str, str]
    started: float  # loop time


@dataclass
class _Waiting:
    fields: dict[str, str]
    joined: float  # loop time


@dataclass
class _PbxState:
    """Everything a restart forgets."""

    channels: dict[str, _Live] = field(default_factory=dict)
    waiting: dict[str, _Waiting] = field(default_factory=dict)  # by uniqueid, in join order
    completed: int = 0
    abandoned: int = 0


class Simulator:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5038,
        username: str = "hotline",
        secret: str = "hotline",
        *,
        scenarios: Sequence[str] = (),
        speed: float = 1.0,
        gap: float = 20.0,
        repeat: bool = False,
        burst: int = 10,
        members: Sequence[sc.Member] = sc.DEFAULT_MEMBERS,
        silent_actions: Iterable[str] = (),
        debug_headers: bool = False,
        version: str = "5.0.2",
        queue_log: Path | None = None,
    ) -> None:
        for name in scenarios:
            if name not in sc.SCENARIOS:
                raise ValueError(f"unknown scenario {name!r}; known: {', '.join(sc.SCENARIOS)}")
        self.host, self.port = host, port
        self.username, self._secret = username, secret
        self.scenarios, self.speed, self.gap, self.repeat = tuple(scenarios), speed, gap, repeat
        self.burst = burst
        self.members = tuple(members)
        # Actions the PBX swallows without a word: for tests of the bridge's timeouts.
        self.silent_actions = {a.lower() for a in silent_actions}
        self.debug_headers, self.version = debug_headers, version
        self.queue_log = QueueLogWriter(queue_log) if queue_log is not None else None
        self.originated: list[dict[str, str]] = []
        # How the callback dialplan's Dial to a number ends, by number (ANSWER when not here).
        self.dial_status: dict[str, str] = {}
        self.redirected: list[dict[str, str]] = []
        self.logins: list[str] = []  # "plain" or "md5", per successful login
        self._ids = sc.Ids(epoch=int(time.time()))
        self._state = _PbxState()
        self._member_state = {m.interface: _MemberState(m) for m in self.members}
        self._server: asyncio.Server | None = None
        self._sessions: set[_Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # calls, originates, the rotation
        self._rotation_task: asyncio.Task[None] | None = None
        self._seq = 0
        self._call_no = 0

    # -- life --

    async def start(self) -> None:
        await self._listen()
        if self.scenarios:
            self._rotation_task = self._spawn(self._rotation())

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._close_server()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("sim.listening host=%s port=%d", self.host, self.port)

    async def _close_server(self) -> None:
        if self._server is not None:
            self._server.close()
            for s in list(self._sessions):
                s.writer.transport.abort()
            self._sessions.clear()
            await self._server.wait_closed()
            self._server = None

    async def restart(self, downtime: float) -> None:
        """Drop every connection, forget every call, come back after ``downtime`` seconds."""
        log.info("sim.restart downtime=%.3fs", downtime)
        me = asyncio.current_task()
        for t in list(self._tasks):
            if t is not me and t is not self._rotation_task:
                t.cancel()
        await self._close_server()
        self._state = _PbxState()
        for ms in self._member_state.values():
            ms.in_call = False
        await asyncio.sleep(downtime)
        await self._listen()

    async def cut_link(self) -> None:
        """Drop every connection and refuse new ones; calls go on (and into queue_log)."""
        log.info("sim.link_cut")
        await self._close_server()

    async def restore_link(self) -> None:
        """Listen again, on the same port."""
        await self._listen()
        log.info("sim.link_restored port=%d", self.port)

    def _spawn(self, coro: object) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def sessions(self) -> int:
        return sum(1 for s in self._sessions if s.authenticated)

    # -- traffic --

    async def _rotation(self) -> None:
        while True:
            for name in self.scenarios:
                self._spawn(self.play(name))
                await asyncio.sleep(self.gap / self.speed)
            if not self.repeat:
                return

    async def play(self, name: str) -> list[str]:
        """Play one scenario to its end; returns the Linkedids of its calls."""
        if name == "burst":
            calls = [self._script("answered") for _ in range(self.burst)]
            await asyncio.gather(*(self._run(steps) for steps in calls))
            return [steps[0].event["Linkedid"] for steps in calls]  # type: ignore[index]
        steps = self._script(name)
        await self._run(steps)
        return [steps[0].event["Linkedid"]]  # type: ignore[index]

    def _script(self, name: str) -> list[sc.Step]:
        n, self._call_no = self._call_no, self._call_no + 1
        return sc.SCRIPTS[name](self._ids, self.members, n)

    async def _run(self, steps: Sequence[sc.Step]) -> None:
        loop = asyncio.get_running_loop()
        t0, wall0 = loop.time(), time.time()
        for step in steps:
            delay = t0 + step.at / self.speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if step.restart_pbx is not None:
                await self.restart(step.restart_pbx / self.speed)
                return
            if step.channel_up is not None:
                uid, fields = step.channel_up
                old = self._state.channels.get(uid)
                self._state.channels[uid] = _Live(fields, old.started if old else loop.time())
            if step.channel_down is not None:
                self._state.channels.pop(step.channel_down, None)
            if step.event is not None:
                # PBX time, so a call's figures do not depend on the speed factor
                self.emit(step.event, timestamp=wall0 + step.at)

    def emit(self, fields: Mapping[str, str], timestamp: float | None = None) -> None:
        """Send one event to every session that asked for events."""
        self._observe(fields)
        at = time.time() if timestamp is None else timestamp
        if self.queue_log is not None:
            self.queue_log.observe(fields, at)
        head = {"Event": fields["Event"], "Privilege": fields.get("Privilege", "call,all"),
                "Timestamp": f"{at:.6f}"}
        if self.debug_headers:
            self._seq += 1
            head |= {"SequenceNumber": str(self._seq), "File": "manager.c", "Line": "1",
                     "Func": "manager_default_msg_cb"}
        data = encode(head | {k: v for k, v in fields.items() if k not in head})
        for s in self._sessions:
            if s.authenticated and s.events and not s.writer.is_closing():
                s.writer.write(data)

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are to every logged-in session: broken packets for tests."""
        for s in self._sessions:
            if s.authenticated and not s.writer.is_closing():
                s.writer.write(data)

    def _observe(self, f: Mapping[str, str]) -> None:
        # Keep what QueueStatus reports, and announce member state as app_queue does.
        name, loop_now = f["Event"], asyncio.get_running_loop().time()
        if name == "QueueCallerJoin":
            self._state.waiting[f["Uniqueid"]] = _Waiting(dict(f), loop_now)
        elif name == "QueueCallerLeave":
            self._state.waiting.pop(f["Uniqueid"], None)
        elif name == "QueueCallerAbandon":
            self._state.abandoned += 1
        elif name in ("AgentConnect", "AgentComplete"):
            ms = self._member_state.get(f["Interface"])
            if ms is None:
                return
            ms.in_call = name == "AgentConnect"
            if name == "AgentComplete":
                self._state.completed += 1
                ms.calls_taken += 1
                ms.last_call = int(time.time())
            self.emit({"Event": "QueueMemberStatus", "Privilege": "agent,all",
                       **self._member_fields(ms, "Interface", "MemberName")})

    def _member_fields(self, ms: _MemberState, iface_key: str, name_key: str) -> dict[str, str]:
        return {
            "Queue": sc.QUEUE, name_key: ms.member.name, iface_key: ms.member.interface,
            "StateInterface": ms.member.interface, "Membership": "static", "Penalty": "0",
            "CallsTaken": str(ms.calls_taken), "LastCall": str(ms.last_call), "LastPause": str(ms.last_pause),
            "LoginTime": str(self._ids.epoch), "InCall": "1" if ms.in_call else "0",
            "Status": "2" if ms.in_call else "1", "Paused": "1" if ms.paused else "0",
            "PausedReason": ms.paused_reason, "Ringinuse": "0", "Wrapuptime": "0",
        }

    # -- the manager protocol --

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = "%s:%s" % writer.get_extra_info("peername")[:2]
        session = _Session(writer, peer)
        self._sessions.add(session)
        log.info("sim.session_open peer=%s", peer)
        try:
            writer.write(f"Asterisk Call Manager/{self.version}{EOL}".encode())
            while True:
                action = await self._read(reader)
                if action is None:
                    break
                if not self._handle(session, action):
                    await writer.drain()
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._sessions.discard(session)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            log.info("sim.session_closed peer=%s", peer)

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> dict[str, str] | None:
        fields: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if not line:
                return None
            text = line.decode(errors="replace").rstrip("\r\n")
            if not text:
                if fields:
                    return fields
                continue
            key, sep, value = text.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()

    def _handle(self, s: _Session, a: dict[str, str]) -> bool:
        """Answer one action; False when the session must end."""
        name = a.get("action", "").lower()
        aid = {"ActionID": a["actionid"]} if "actionid" in a else {}
        if name in self.silent_actions:
            log.info("sim.action_swallowed action=%s", name)
            return True
        if name == "challenge":
            if a.get("authtype", "").lower() != "md5":
                s.send({"Response": "Error", **aid, "Message": "Must specify AuthType"})
                return True
            s.challenge = str(secrets.randbelow(10**9))
            s.send({"Response": "Success", **aid, "Challenge": s.challenge})
            return True
        if name == "login":
            return self._login(s, a, aid)
        if name == "ping":
            s.send({"Response": "Success", **aid, "Ping": "Pong",
                    "Timestamp": f"{time.time():.6f}"})
            return True
        if name == "logoff":
            s.send({"Response": "Goodbye", **aid, "Message": "Thanks for all the fish."})
            return False
        if not s.authenticated:
            s.send({"Response": "Error", **aid, "Message": "Permission denied"})
            return True
        if name == "events":
            s.events = a.get("eventmask", "on").lower() not in ("off", "no", "false")
            s.send({"Response": "Success", **aid, "Events": "On" if s.events else "Off"})
        elif name == "coreshowchannels":
            self._core_show_channels(s, aid)
        elif name == "queuestatus":
            self._queue_status(s, aid)
        elif name == "originate":
            self._originate(s, a, aid)
        elif name == "redirect":
            self._redirect(s, a, aid)
        elif name == "queuepause":
            self._queue_pause(s, a, aid)
        else:
            s.send({"Response": "Error", **aid, "Message": "Invalid/unknown command"})
        return True

    def _login(self, s: _Session, a: dict[str, str], aid: dict[str, str]) -> bool:
        if a.get("authtype", "").lower() == "md5":
            expected = hashlib.md5(((s.challenge or "") + self._secret).encode()).hexdigest()
            ok = s.challenge is not None and a.get("key", "") == expected
        else:
            ok = a.get("secret", "") == self._secret
        ok = ok and a.get("username", "") == self.username
        if not ok:
            log.info("sim.login_failed peer=%s username=%s", s.peer, a.get("username", ""))
            s.send({"Response": "Error", **aid, "Message": "Authentication failed"})
            return False  # Asterisk ends the session after a failed login
        s.authenticated = True
        self.logins.append("md5" if a.get("authtype", "").lower() == "md5" else "plain")
        s.events = a.get("events", "on").lower() not in ("off", "no", "false")
        s.send({"Response": "Success", **aid, "Message": "Authentication accepted"})
        if s.events:
            s.send({"Event": "FullyBooted", "Privilege": "system,all",
                    "Timestamp": f"{time.time():.6f}", "Uptime": "1", "LastReload": "1",
                    "Status": "Fully Booted"})
        return True

    def _core_show_channels(self, s: _Session, aid: dict[str, str]) -> None:
        now = asyncio.get_running_loop().time()
        s.send({"Response": "Success", **aid, "EventList": "start",
                "Message": "Channels will follow"})
        for live in self._state.channels.values():
            d = int((now - live.started) * self.speed)
            duration = f"{d // 3600:02d}:{d % 3600 // 60:02d}:{d % 60:02d}"
            s.send({"Event": "CoreShowChannel", **aid, **live.fields, "Duration": duration})
        s.send({"Event": "CoreShowChannelsComplete", **aid, "EventList": "Complete",
                "ListItems": str(len(self._state.channels))})

    def _queue_status(self, s: _Session, aid: dict[str, str]) -> None:
        now = asyncio.get_running_loop().time()
        st = self._state
        s.send({"Response": "Success", **aid, "EventList": "start",
                "Message": "Queue status will follow"})
        s.send({"Event": "QueueParams", "Queue": sc.QUEUE, "Max": "0", "Strategy": "rrmemory",
                "Calls": str(len(st.waiting)), "Holdtime": "0", "TalkTime": "0",
                "Completed": str(st.completed), "Abandoned": str(st.abandoned),
                "ServiceLevel": "20", "ServicelevelPerf": "0.0", "ServicelevelPerf2": "0.0",
                "Weight": "0", **aid})
        items = 1
        for ms in self._member_state.values():
            s.send({"Event": "QueueMember", **self._member_fields(ms, "Location", "Name"), **aid})
            items += 1
        for pos, w in enumerate(st.waiting.values(), start=1):
            f = w.fields
            s.send({"Event": "QueueEntry", "Queue": sc.QUEUE, "Position": str(pos),
                    "Channel": f["Channel"], "Uniqueid": f["Uniqueid"],
                    "CallerIDNum": f["CallerIDNum"], "CallerIDName": f["CallerIDName"],
                    "ConnectedLineNum": "<unknown>", "ConnectedLineName": "<unknown>",
                    "Wait": str(int((now - w.joined) * self.speed)), "Priority": "0", **aid})
            items += 1
        s.send({"Event": "QueueStatusComplete", **aid, "EventList": "Complete",
                "ListItems": str(items)})

    def _originate(self, s: _Session, a: dict[str, str], aid: dict[str, str]) -> None:
        if not a.get("channel") or not (a.get("exten") or a.get("application")):
            s.send({"Response": "Error", **aid, "Message": "Channel and Exten are required"})
            return
        self.originated.append(dict(a))
        s.send({"Response": "Success", **aid, "Message": "Originate successfully queued"})
        self._spawn(self._originate_response(s, a, aid))

    def _queue_pause(self, s: _Session, a: dict[str, str], aid: dict[str, str]) -> None:
        """示忙 / 示闲 as app_queue answers it: the member is paused in the one queue named or
        in all of them, each queue's change announced by a QueueMemberPause (Asterisk 16+
        fields: Paused, PausedReason) before the reply; an interface in no queue is an Error."""
        interface, paused = a.get("interface", ""), a.get("paused")
        if not interface or paused is None:
            s.send({"Response": "Error", **aid, "Message": "Need 'Interface' and 'Paused' parameters."})
            return
        ms = self._member_state.get(interface)
        if ms is None or a.get("queue", sc.QUEUE) not in ("", sc.QUEUE):
            s.send({"Response": "Error", **aid, "Message": "Interface not found"})
            return
        ms.paused = paused.strip().lower() in ("yes", "true", "y", "t", "1", "on")  # ast_true
        ms.paused_reason = a.get("reason", "") if ms.paused else ""
        if ms.paused:
            ms.last_pause = int(time.time())
        self.emit({"Event": "QueueMemberPause", "Privilege": "agent,all",
                   **self._member_fields(ms, "Interface", "MemberName")})
        s.send({"Response": "Success", **aid,
                "Message": "Interface paused successfully" if ms.paused else "Interface unpaused successfully"})

    def _redirect(self, s: _Session, a: dict[str, str], aid: dict[str, str]) -> None:
        """Send a live channel to another place in the dialplan, as Asterisk does: refused
        for a channel that is not up; the channel's next Newexten shows where it went."""
        live = next((c for c in self._state.channels.values() if c.fields.get("Channel") == a.get("channel")), None)
        if not a.get("exten") or not a.get("context"):
            s.send({"Response": "Error", **aid, "Message": "Exten and Context are required"})
            return
        if live is None:
            s.send({"Response": "Error", **aid, "Message": "Channel specified does not exist"})
            return
        self.redirected.append(dict(a))
        live.fields.update(Context=a["context"], Exten=a["exten"], Priority=a.get("priority", "1"),
                           Application="Dial", ApplicationData=f"PJSIP/{a['exten']}@trunk")
        s.send({"Response": "Success", **aid, "Message": "Redirect successful"})
        self.emit({"Event": "Newexten", "Privilege": "dialplan,all",
                   **{k: v for k, v in live.fields.items() if k not in ("Duration", "BridgeId",
                                                                         "ApplicationData", "Application")},
                   "Extension": a["exten"], "Application": "Dial", "AppData": f"PJSIP/{a['exten']}@trunk"})

    async def _originate_response(self, s: _Session, a: dict[str, str],
                                  aid: dict[str, str]) -> None:
        await asyncio.sleep(3 / self.speed)  # the callee's phone rings, then answers
        busy = "busy" in a["channel"].lower()
        num, _, name = a.get("callerid", "").partition(" <")
        uniqueid = a.get("channelid") or self._ids.uniqueid()
        s.send({"Event": "OriginateResponse", "Privilege": "call,all", **aid,
                "Response": "Failure" if busy else "Success", "Channel": a["channel"],
                "Context": a.get("context", ""), "Exten": a.get("exten", ""),
                "Application": "", "Data": "", "Reason": "5" if busy else "4",
                "Uniqueid": "<null>" if busy else uniqueid,
                "CallerIDNum": num or "<unknown>", "CallerIDName": name.rstrip(">") or "<unknown>"})
        if busy:
            return
        # The answered channel runs the dialplan: Dial(PJSIP/<number>@trunk), as
        # docker/asterisk/extensions.conf's [callback] does; the number answers or not.
        exten = a.get("exten", "")
        own = {"Channel": f"{a['channel']}-{uniqueid[-8:]}", "Uniqueid": uniqueid, "Linkedid": uniqueid}
        dest = {"DestChannel": f"PJSIP/trunk-{uniqueid[-8:]}", "DestUniqueid": f"{uniqueid}.1",
                "DestCallerIDNum": exten}
        self.emit({"Event": "DialBegin", **own, **dest, "DialString": f"{exten}@trunk"})
        await asyncio.sleep(2 / self.speed)
        status = self.dial_status.get(exten, "ANSWER")
        self.emit({"Event": "DialEnd", **own, **dest, "DialStatus": status})
        if status != "ANSWER":
            self.emit({"Event": "Hangup", **own, "Cause": "16", "Cause-txt": "Normal Clearing"})
