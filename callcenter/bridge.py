"""The AMI bridge: panoramisk connection -> events -> CallAssembler -> on_call / on_agent.

It owns the connection's life instead of leaving it to panoramisk 1.4, whose Manager
reconnects on a fixed timer, never resolves an action sent on a dead socket, pings without
a timeout, ignores ``auth_type='md5'`` and re-sends pending actions after a reconnect (a
re-sent Originate would ring a citizen twice). So: one fresh Manager per connection, every
action bounded by ``asyncio.wait_for``, our own login, keepalive, backoff and reconcile.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from panoramisk import Manager
from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from callcenter import events as ev
from callcenter import queue_log as ql
from callcenter.agents import AgentState, AgentStates
from callcenter.calls import CallAssembler, CallRecord
from dispatch.errors import StorageUnavailable

log = logging.getLogger(__name__)

OnCall = Callable[[CallRecord], Awaitable[None]]
OnAgent = Callable[[AgentState], Awaitable[None]]
# Reads the PBX's queue_log from an epoch time on (a file or the realtime table).
QueueLogReader = Callable[[float], Awaitable[list[ql.QueueLogEntry]]]
# The Uniqueid (ChannelId) the bridge gives a channel it originates, so also its call's Linkedid.
ORIGINATED = "originate-"


@dataclass(frozen=True)
class BridgeSettings:
    host: str
    username: str
    secret: str = field(repr=False)
    port: int = 5038
    md5_login: bool = False  # Challenge/Login with a Key, so the secret never crosses the wire
    connect_timeout: float = 5.0
    action_timeout: float = 5.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    ping_interval: float = 20.0
    sweep_interval: float = 60.0
    max_call_age: float = 4 * 3600.0  # a call silent this long lost its Hangup
    ivr_variable: str = "IVR_CHOICE"
    max_skew: float = 24 * 3600.0  # an event Timestamp further than this from now is not believed
    write_retry_initial: float = 1.0  # the database refused a record: first retry after this
    write_retry_max: float = 30.0
    queue_log_margin: float = 5.0  # seconds read before the link went down, for clock skew


class AmiError(Exception):
    """Base of the bridge's errors."""


class NotConnected(AmiError):
    def __init__(self, action: str):
        super().__init__(f"not connected to the PBX, cannot send {action}")
        self.action = action


class ActionTimeout(AmiError):
    def __init__(self, action: str, seconds: float):
        super().__init__(f"{action} got no answer within {seconds:g}s")
        self.action, self.seconds = action, seconds


class ActionFailed(AmiError):
    def __init__(self, action: str, message: str):
        super().__init__(f"{action} failed: {message}")
        self.action, self.message = action, message


class LoginFailed(ActionFailed):
    pass


class ConnectionLost(AmiError):
    def __init__(self, action: str):
        super().__init__(f"connection lost while waiting for {action}")
        self.action = action


@dataclass(frozen=True)
class OriginateResult:
    success: bool
    reason: int | None  # Asterisk's originate reason: 4 answered, 5 busy, 3 no answer...
    channel: str
    uniqueid: str
    # How the dialplan's Dial to the number went once the channel answered (DialEnd's
    # DialStatus: ANSWER, BUSY, NOANSWER...; CANCEL when the channel hung up first), or None
    # when the PBX said nothing of it in time.
    dial_status: str | None = None


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's Manager minus its own timers and re-sends: the bridge owns those."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.lost = asyncio.Event()
        # Manager hooks FullyBooted to re-send actions pending at a disconnect; drop it.
        self.callbacks.clear()
        self.patterns.clear()

    def ping(self) -> None:  # the bridge pings, with a timeout
        pass

    def connection_lost(self, exc: object) -> None:
        # Called by the protocol on a dropped socket or a Shutdown event. panoramisk would
        # schedule a reconnect here; the bridge's loop does that, with backoff.
        self._connected = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        if not self.lost.is_set():
            log.warning("ami.connection_lost host=%s port=%s", self.config["host"],
                        self.config["port"])
        self.lost.set()


def _plain(m: Message) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else str(v)) for k, v in m.items()}


class AmiBridge:
    """Run with ``await bridge.start()`` / ``await bridge.stop()`` (or ``async with``)."""

    def __init__(self, settings: BridgeSettings, on_call: OnCall,
                 on_agent: OnAgent | None = None,
                 clock: Callable[[], float] = time.time,
                 queue_log: QueueLogReader | None = None, recover_since: float | None = None) -> None:
        """`recover_since`: an epoch time calls may have gone unrecorded from (the last record
        a bridge that stopped, or another process's that died, wrote); the first connection
        reads queue_log from then, as after an outage."""
        self.settings = settings
        self._on_call, self._on_agent, self._clock = on_call, on_agent, clock
        self._queue_log = queue_log
        self._lost_at: float | None = recover_since  # when the link last went down
        self.calls = CallAssembler(ivr_variable=settings.ivr_variable)
        self.agents = AgentStates()
        self.events_seen = 0  # AMI events received, used or not
        self.events_applied = 0  # those that parsed into a call or agent event
        self.connections = 0  # successful logins so far
        self.recovered = 0  # calls rebuilt from queue_log after outages
        self.write_retries = 0  # records the database refused and that were tried again
        self._manager: _Manager | None = None
        self._ready = asyncio.Event()
        self._outbox: asyncio.Queue[CallRecord | AgentState] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        # Originated channels (by the ChannelId we gave them) whose Dial we wait to see end.
        self._dials: dict[str, asyncio.Future[str]] = {}

    # -- life --

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._connection_loop(), name="ami-connection"),
            asyncio.create_task(self._sweep_loop(), name="ami-sweep"),
            asyncio.create_task(self._deliver_loop(), name="ami-deliver"),
        ]

    async def stop(self, drain: float = 2.0) -> None:
        conn, sweep, deliver = self._tasks or (None, None, None)
        for t in (conn, sweep):
            if t is not None:
                t.cancel()
        await asyncio.gather(*(t for t in (conn, sweep) if t), return_exceptions=True)
        if deliver is not None:
            # hand over what was already assembled, but do not hang on a stuck callback
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._outbox.join(), drain)
            deliver.cancel()
            await asyncio.gather(deliver, return_exceptions=True)
        self._tasks = []
        log.info("ami.stopped")

    async def __aenter__(self) -> AmiBridge:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def idle(self) -> None:
        """Wait until every record assembled so far went through on_call / on_agent."""
        await self._outbox.join()

    # -- the connection --

    async def _connection_loop(self) -> None:
        s = self.settings
        failures = 0
        while True:
            try:
                await self._session()
                failures = 0  # it was up; the next drop starts the backoff again
            except LoginFailed as exc:
                log.error("ami.login_failed host=%s port=%d username=%s message=%s",
                          s.host, s.port, s.username, exc.message)
            except ActionTimeout as exc:
                log.warning("ami.action_timeout action=%s seconds=%g", exc.action, exc.seconds)
            except (OSError, asyncio.TimeoutError) as exc:
                log.warning("ami.connect_failed host=%s port=%d error=%s",
                            s.host, s.port, exc or type(exc).__name__)
            except AmiError as exc:
                log.warning("ami.session_failed error=%s", exc)
            except Exception:  # a bug must cost a reconnect, not the bridge
                log.exception("ami.session_crashed")
            delay = min(s.backoff_max, s.backoff_initial * 2 ** failures)
            failures += 1
            log.info("ami.reconnect_in seconds=%.2f attempt=%d", delay, failures)
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        s = self.settings
        loop = asyncio.get_running_loop()
        manager = _Manager(host=s.host, port=s.port, loop=loop, events="on")
        manager.register_event("*", self._on_message)
        log.info("ami.connecting host=%s port=%d", s.host, s.port)
        transport, protocol = await asyncio.wait_for(
            loop.create_connection(AMIProtocol, s.host, s.port), s.connect_timeout)
        # Hand the socket to panoramisk as its own connect() would (which we skip: it
        # retries on a fixed timer behind our back).
        done: asyncio.Future[tuple[Any, Any]] = loop.create_future()
        done.set_result((transport, protocol))
        manager.connection_made(done)
        self._manager = manager
        keepalive: asyncio.Task[None] | None = None
        waiter: asyncio.Task[bool] | None = None
        try:
            await self._login(manager)
            manager.authenticated = True
            self.connections += 1
            log.info("ami.logged_in host=%s port=%d connection=%d",
                     s.host, s.port, self.connections)
            await self._reconcile(manager)
            await self._recover_gap()
            self._ready.set()
            keepalive = asyncio.create_task(self._keepalive(manager), name="ami-keepalive")
            waiter = asyncio.create_task(manager.lost.wait(), name="ami-lost")
            await asyncio.wait({keepalive, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if keepalive.done() and not keepalive.cancelled():
                keepalive.result()  # raises the ping timeout
        finally:
            if self._ready.is_set():
                self._lost_at = self._clock()
            self._ready.clear()
            self._manager = None
            for t in (keepalive, waiter):
                if t is not None:
                    t.cancel()
            await asyncio.gather(*(t for t in (keepalive, waiter) if t),
                                 return_exceptions=True)
            manager.close()

    async def _login(self, manager: _Manager) -> None:
        s = self.settings
        login = {"Action": "Login", "Username": s.username, "Events": "on"}
        if s.md5_login:
            challenge = await self._send(manager, {"Action": "Challenge", "AuthType": "MD5"})
            key = hashlib.md5((challenge.get("Challenge", "") + s.secret).encode()).hexdigest()
            login |= {"AuthType": "MD5", "Key": key}
        else:
            login["Secret"] = s.secret
        reply = await self._send(manager, login, check=False)
        if reply.get("Response") != "Success":
            raise LoginFailed("Login", reply.get("Message", "no message"))

    async def _keepalive(self, manager: _Manager) -> None:
        while True:
            await asyncio.sleep(self.settings.ping_interval)
            await self._send(manager, {"Action": "Ping"})

    async def _reconcile(self, manager: _Manager) -> None:
        """Calls open before a drop are checked against what the PBX has now."""
        now = self._clock()
        channels = await self._send_list(manager, {"Action": "CoreShowChannels"})
        live = [e for e in (ev.parse(m, now) for m in channels)
                if isinstance(e, ev.CoreShowChannel)]
        before = len(self.calls)
        records = self.calls.reconcile(live, now)
        for r in records:
            self._outbox.put_nowait(r)
        closed = sum(1 for r in records if r.final)
        log.info("ami.reconciled open_before=%d closed=%d adopted=%d live_channels=%d",
                 before, closed, len(records) - closed, len(live))
        status = await self._send_list(manager, {"Action": "QueueStatus"})
        members = [e for e in (ev.parse(m, now) for m in status)
                   if isinstance(e, ev.QueueMember)]
        for st in self.agents.reconcile(members, now):
            self._outbox.put_nowait(st)

    async def _recover_gap(self) -> None:
        """Calls that began and ended while the link was down exist only in queue_log."""
        if self._queue_log is None or self._lost_at is None:
            return
        s, lost_at = self.settings, self._lost_at
        try:
            entries = await self._queue_log(lost_at - s.max_call_age)
            records = ql.calls_from(
                entries, ended_since=lost_at - s.queue_log_margin,
                linkedid_of=self.calls.queue_callids(),
                interfaces={a.member_name: a.interface for a in self.agents.all() if a.member_name})
        except Exception:  # an unreadable log costs the recovery, never the connection
            log.exception("ami.queue_log_failed")
            return
        # Calls open here are followed live, calls seen to their end need nothing; the
        # database keeps live records over recovered ones anyway (a restarted bridge).
        fresh = [r for r in records
                 if not self.calls.is_open(r.linkedid) and not self.calls.seen_to_end(r.linkedid)]
        for r in fresh:
            self._outbox.put_nowait(r)
        self.recovered += len(fresh)
        self._lost_at = None
        log.info("ami.queue_log_recovered since=%.0f entries=%d calls=%d",
                 lost_at, len(entries), len(fresh))

    # -- actions, all bounded --

    async def _await(self, manager: _Manager, action: Action, timeout: float) -> Any:
        name = action["Action"]
        if manager.protocol is None or manager.protocol.closed:
            raise NotConnected(name)
        fut = manager.send_action(action, as_list=action.as_list)
        # panoramisk never resolves an action whose socket died: race it with the loss.
        lost = asyncio.ensure_future(manager.lost.wait())
        try:
            await asyncio.wait({fut, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not fut.done():
                fut.cancel()
                manager.protocol.responses.pop(action.id, None)
        if not fut.cancelled():
            return fut.result()
        if manager.lost.is_set():
            raise ConnectionLost(name)
        raise ActionTimeout(name, timeout)

    async def _send(self, manager: _Manager, fields: Mapping[str, str], *,
                    check: bool = True, as_list: bool | None = False,
                    timeout: float | None = None) -> dict[str, str]:
        action = Action(dict(fields), as_list=as_list)
        reply = await self._await(manager, action, timeout or self.settings.action_timeout)
        if isinstance(reply, list):
            reply = reply[0]
        plain = _plain(reply)
        if check and plain.get("Response") not in ("Success", "Follows", "Goodbye"):
            raise ActionFailed(fields["Action"], plain.get("Message", "no message"))
        return plain

    async def _send_list(self, manager: _Manager, fields: Mapping[str, str]) -> list[Message]:
        reply = await self._await(manager, Action(dict(fields), as_list=None),
                                  self.settings.action_timeout)
        if not isinstance(reply, list):  # an error comes alone
            raise ActionFailed(fields["Action"], reply.get("Message", "no message"))
        return [m for m in reply if "Event" in m]

    def _current(self, action: str) -> _Manager:
        if self._manager is None or not self._ready.is_set():
            raise NotConnected(action)
        return self._manager

    async def action(self, fields: Mapping[str, str], *,
                     timeout: float | None = None) -> dict[str, str]:
        """Send an action that answers with one reply (QueueAdd, QueuePause...).

        as_list=False is what makes panoramisk 1.4 resolve QueueAdd's reply at all.
        """
        return await self._send(self._current(fields["Action"]), fields, as_list=False,
                                timeout=timeout)

    async def originate(self, channel: str, exten: str, context: str, caller_id: str, *,
                        ring_timeout: float = 30.0, priority: int = 1,
                        answer_timeout: float = 65.0) -> OriginateResult:
        """Call ``channel`` and, once answered, connect it to ``exten@context``.

        Waits for the OriginateResponse, at most ring_timeout + action_timeout seconds. The
        OriginateResponse only says that ``channel`` answered; when it did, waits at most
        answer_timeout more for the dialplan's Dial from it to end (DialEnd on the channel,
        whose Uniqueid we set with ChannelId), whose status says if the number answered.
        """
        manager = self._current("Originate")
        channel_id = f"{ORIGINATED}{uuid.uuid4().hex}"
        action = Action({
            "Action": "Originate", "Channel": channel, "Exten": exten, "Context": context,
            "Priority": str(priority), "CallerID": caller_id, "ChannelId": channel_id,
            "Timeout": str(int(ring_timeout * 1000)), "Async": "true",
        }, as_list=None)
        # Waiting from before the action: the Dial may end before its OriginateResponse is read.
        dialled: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._dials[channel_id] = dialled
        try:
            log.info("ami.originate channel=%s exten=%s context=%s", channel, exten, context)
            reply = await self._await(manager, action, ring_timeout + self.settings.action_timeout)
            if not isinstance(reply, list):
                message = reply.get("Message", "no message")
                log.warning("ami.originate_refused channel=%s message=%s", channel, message)
                raise ActionFailed("Originate", message)
            resp = next((e for e in (ev.parse(m, self._clock()) for m in reply)
                         if isinstance(e, ev.OriginateResponse)), None)
            if resp is None:
                raise ActionFailed("Originate", "no OriginateResponse")
            success = resp.response == "Success"
            status = None
            if success:
                try:
                    status = await asyncio.wait_for(asyncio.shield(dialled), answer_timeout)
                except asyncio.TimeoutError:
                    log.warning("ami.originate_dial_unknown channel=%s seconds=%g", channel, answer_timeout)
        finally:
            self._dials.pop(channel_id, None)
        result = OriginateResult(success, resp.reason, resp.channel, resp.uniqueid, status)
        log.info("ami.originate_result channel=%s success=%s reason=%s dial_status=%s",
                 channel, result.success, result.reason, result.dial_status)
        return result

    async def redirect(self, channel: str, exten: str, context: str, *, priority: int = 1) -> None:
        """Send a live channel on to ``exten@context`` (AMI Redirect), e.g. a caller to an
        emergency number; the operator's leg is left and hangs up. ActionFailed when the
        channel is gone."""
        log.info("ami.redirect channel=%s exten=%s context=%s", channel, exten, context)
        await self.action({"Action": "Redirect", "Channel": channel, "Exten": exten,
                           "Context": context, "Priority": str(priority)})

    async def pause(self, interface: str, paused: bool, reason: str = "", *, queue: str | None = None) -> None:
        """示忙 / 示闲: pause or unpause a member in ``queue`` or, without one, every queue
        (AMI QueuePause). The agent's state follows from the QueueMemberPause events the PBX
        sends; ActionFailed when it refuses (an interface in no queue)."""
        fields = {"Action": "QueuePause", "Interface": interface, "Paused": "true" if paused else "false"}
        if queue:
            fields["Queue"] = queue
        if paused and reason:
            fields["Reason"] = reason
        log.info("ami.queue_pause interface=%s paused=%s reason=%s", interface, paused, reason)
        await self.action(fields)

    async def live_channels(self) -> list[ev.CoreShowChannel]:
        """The channels up on the PBX now (CoreShowChannels)."""
        manager = self._current("CoreShowChannels")
        now = self._clock()
        listing = await self._send_list(manager, {"Action": "CoreShowChannels"})
        return [e for e in (ev.parse(m, now) for m in listing) if isinstance(e, ev.CoreShowChannel)]

    # -- events --

    def _on_message(self, manager: _Manager, message: Message) -> None:
        # Called by panoramisk for every event not answering an action of ours.
        self.events_seen += 1
        try:
            event = ev.parse(message, self._clock(), self.settings.max_skew)
            if event is None:
                return
            self.events_applied += 1
            self._dial_ended(event)
            if isinstance(event, ev.ChannelEvent) and event.linkedid.startswith(ORIGINATED):
                return  # the hotline's own call out (回拨), not a caller's call to record
            record = self.calls.apply(event)
            if record is not None:
                self._outbox.put_nowait(record)
            for state in self.agents.apply(event):
                self._outbox.put_nowait(state)
        except Exception:  # one bad event must not stop the bridge
            log.exception("ami.event_failed event=%s", message.get("Event"))

    def _dial_ended(self, event: object) -> None:
        """An originated channel's Dial ended, or the channel hung up before it did."""
        if not isinstance(event, (ev.DialEnd, ev.Hangup)):
            return
        waiting = self._dials.get(event.uniqueid)
        if waiting is not None and not waiting.done():
            waiting.set_result(event.dial_status if isinstance(event, ev.DialEnd) else "CANCEL")

    async def _sweep_loop(self) -> None:
        s = self.settings
        while True:
            await asyncio.sleep(s.sweep_interval)
            try:
                for record in self.calls.sweep(self._clock(), s.max_call_age):
                    log.info("ami.swept linkedid=%s outcome=%s", record.linkedid, record.outcome)
                    self._outbox.put_nowait(record)
            except Exception:  # the next sweep tries again; the loop must live on
                log.exception("ami.sweep_failed")

    async def _deliver_loop(self) -> None:
        while True:
            item = await self._outbox.get()
            try:
                await self._deliver(item)
            finally:
                self._outbox.task_done()

    async def _deliver(self, item: CallRecord | AgentState) -> None:
        """Hand one record over; while the database cannot take writes, keep it and retry
        with backoff (records behind it wait in order, and events keep being assembled)."""
        s = self.settings
        delay = s.write_retry_initial
        while True:
            try:
                if isinstance(item, CallRecord):
                    await self._on_call(item)
                elif self._on_agent is not None:
                    await self._on_agent(item)
                return
            except StorageUnavailable as exc:
                self.write_retries += 1
                log.warning("ami.write_refused reason=%s retry_in=%.2f pending=%d item=%s",
                            exc.reason, delay, self._outbox.qsize() + 1,
                            getattr(item, "linkedid", None) or getattr(item, "interface", "?"))
                await asyncio.sleep(delay)
                delay = min(s.write_retry_max, delay * 2)
            except Exception:
                log.exception("ami.callback_failed item=%r", item)
                return
