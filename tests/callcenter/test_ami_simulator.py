"""The simulator over a real socket, read by a plain client that only knows the wire format."""

import asyncio
import hashlib

from callcenter import wire
from callcenter.simulator import Simulator


class RawClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.banner = ""

    @classmethod
    async def connect(cls, port: int, opened: list | None = None) -> "RawClient":
        c = cls(*await asyncio.open_connection("127.0.0.1", port))
        c.banner = (await c.reader.readline()).decode()
        if opened is not None:
            opened.append(c)
        return c

    async def send(self, **fields: str) -> None:
        self.writer.write(wire.encode(fields))
        await self.writer.drain()

    async def read(self) -> dict[str, str]:
        data = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 2)
        return next(wire.decode(data.decode()))

    async def read_until(self, event: str) -> list[dict[str, str]]:
        out = [await self.read()]
        while out[-1].get("Event") != event:
            out.append(await self.read())
        return out

    async def login(self, secret: str = "s3cret") -> dict[str, str]:
        await self.send(Action="Login", ActionID="1", Username="hotline", Secret=secret)
        return await self.read()

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass


def run(story):
    """Run story(opened) and close every client it opened."""

    async def main():
        opened: list[RawClient] = []
        try:
            await story(opened)
        finally:
            for c in opened:
                await c.close()

    return asyncio.run(asyncio.wait_for(main(), 20))


def sim(**kw) -> Simulator:
    return Simulator("127.0.0.1", 0, "hotline", "s3cret", speed=kw.pop("speed", 1000), **kw)


def test_banner_login_ping_and_logoff():
    async def story(opened):
        async with sim() as s:
            c = await RawClient.connect(s.port, opened)
            assert c.banner == "Asterisk Call Manager/5.0.2\r\n"
            reply = await c.login()
            assert reply == {"Response": "Success", "ActionID": "1",
                             "Message": "Authentication accepted"}
            assert (await c.read())["Event"] == "FullyBooted"
            await c.send(Action="Ping", ActionID="p1")
            pong = await c.read()
            assert (pong["Response"], pong["ActionID"], pong["Ping"]) == ("Success", "p1", "Pong")
            assert float(pong["Timestamp"]) > 0
            await c.send(Action="Logoff", ActionID="bye")
            assert (await c.read())["Response"] == "Goodbye"
            assert await c.reader.read() == b""  # the PBX hangs up on us
    run(story)


def test_failed_login_says_authentication_failed_and_closes():
    async def story(opened):
        async with sim() as s:
            c = await RawClient.connect(s.port, opened)
            assert await c.login("wrong") == {"Response": "Error", "ActionID": "1",
                                              "Message": "Authentication failed"}
            assert await c.reader.read() == b""
    run(story)


def test_md5_challenge_login():
    async def story(opened):
        async with sim() as s:
            c = await RawClient.connect(s.port, opened)
            await c.send(Action="Challenge", AuthType="MD5", ActionID="c")
            challenge = (await c.read())["Challenge"]
            key = hashlib.md5((challenge + "s3cret").encode()).hexdigest()
            await c.send(Action="Login", AuthType="MD5", Username="hotline", Key=key,
                         ActionID="l")
            assert (await c.read())["Message"] == "Authentication accepted"
            bad = await RawClient.connect(s.port, opened)
            await bad.send(Action="Challenge", AuthType="MD5", ActionID="c")
            await bad.read()
            await bad.send(Action="Login", AuthType="MD5", Username="hotline", Key="0" * 32)
            assert (await bad.read())["Message"] == "Authentication failed"
    run(story)


def test_actions_need_login_and_unknown_actions_are_errors():
    async def story(opened):
        async with sim() as s:
            c = await RawClient.connect(s.port, opened)
            await c.send(Action="CoreShowChannels", ActionID="x")
            assert (await c.read())["Response"] == "Error"
            await c.login()
            await c.read()
            await c.send(Action="FlyToTheMoon", ActionID="y")
            reply = await c.read()
            assert (reply["Response"], reply["ActionID"]) == ("Error", "y")
    run(story)


def test_call_events_reach_sessions_and_core_show_channels_lists_live_ones():
    async def story(opened):
        async with sim(speed=100) as s:
            c = await RawClient.connect(s.port, opened)
            await c.login()
            await c.read()
            playing = asyncio.create_task(s.play("answered"))
            events = await c.read_until("AgentConnect")
            names = [e["Event"] for e in events]
            assert names[:2] == ["Newchannel", "Newstate"]
            assert names.index("QueueCallerJoin") < names.index("AgentCalled") < names.index(
                "QueueCallerLeave") < names.index("AgentConnect")
            assert all("Timestamp" in e for e in events)
            await c.send(Action="CoreShowChannels", ActionID="list-1")
            listing = [m for m in await c.read_until("CoreShowChannelsComplete")
                       if m.get("ActionID") == "list-1"]  # call events may interleave
            assert listing[0]["EventList"] == "start"
            rows = [m for m in listing if m.get("Event") == "CoreShowChannel"]
            assert len(rows) == 2 and {r["Linkedid"] for r in rows} == {events[0]["Linkedid"]}
            assert listing[-1]["ListItems"] == "2"
            await playing
    run(story)


def test_queue_status_lists_members_and_waiting_callers():
    async def story(opened):
        async with sim() as s:
            c = await RawClient.connect(s.port, opened)
            await c.login()
            await c.read()
            await c.send(Action="QueueStatus", ActionID="q")
            reply = await c.read_until("QueueStatusComplete")
            assert reply[0]["Message"] == "Queue status will follow"
            members = [m for m in reply if m.get("Event") == "QueueMember"]
            assert [m["Location"] for m in members] == ["PJSIP/7001", "PJSIP/7002",
                                                        "PJSIP/7003"]
            assert all(m["ActionID"] == "q" for m in reply)
    run(story)


def test_originate_is_queued_then_answered_by_an_originate_response():
    async def story(opened):
        async with sim() as s:
            c = await RawClient.connect(s.port, opened)
            await c.login()
            await c.read()
            await c.send(Action="Originate", ActionID="o", Channel="PJSIP/7001",
                         Exten="13800138000", Context="callback", Priority="1",
                         CallerID="12345 <12345>", Async="true")
            assert (await c.read())["Message"] == "Originate successfully queued"
            resp = await c.read()
            assert (resp["Event"], resp["ActionID"], resp["Response"]) == (
                "OriginateResponse", "o", "Success")
            assert s.originated[0]["exten"] == "13800138000"
    run(story)


def test_restart_drops_connections_and_forgets_calls():
    async def story(opened):
        async with sim() as s:
            c = await RawClient.connect(s.port, opened)
            await c.login()
            await c.read()
            await s.play("restart")  # returns once the PBX is back
            await c.reader.read()  # the events sent before the drop, then EOF
            assert c.reader.at_eof()
            c2 = await RawClient.connect(s.port, opened)
            await c2.login()
            await c2.read()
            await c2.send(Action="CoreShowChannels", ActionID="after")
            listing = await c2.read_until("CoreShowChannelsComplete")
            assert listing[-1]["ListItems"] == "0"
    run(story)


def test_queue_pause_answers_as_asterisk_and_announces_the_member_paused_with_its_reason():
    async def story(opened):
        async with sim() as s:
            c = await RawClient.connect(s.port, opened)
            await c.login()
            await c.read()  # FullyBooted
            await c.send(Action="QueuePause", ActionID="p1", Interface="PJSIP/7001", Paused="true", Reason="meal")
            # app_queue announces the change, then acknowledges the action.
            event = await c.read()
            assert event["Event"] == "QueueMemberPause"
            assert (event["Interface"], event["MemberName"], event["Queue"]) == ("PJSIP/7001", "Wang Fang", "12345")
            assert (event["Paused"], event["PausedReason"]) == ("1", "meal")
            assert int(event["LastPause"]) > 0
            assert await c.read() == {"Response": "Success", "ActionID": "p1",
                                      "Message": "Interface paused successfully"}
            # QueueStatus reports the member paused, with the reason.
            await c.send(Action="QueueStatus", ActionID="q")
            member = next(m for m in await c.read_until("QueueStatusComplete")
                          if m.get("Event") == "QueueMember" and m["Location"] == "PJSIP/7001")
            assert (member["Paused"], member["PausedReason"]) == ("1", "meal")

            await c.send(Action="QueuePause", ActionID="p2", Interface="PJSIP/7001", Paused="false")
            event = await c.read()
            assert (event["Event"], event["Paused"], event["PausedReason"]) == ("QueueMemberPause", "0", "")
            assert (await c.read())["Message"] == "Interface unpaused successfully"

            await c.send(Action="QueuePause", ActionID="p3", Interface="PJSIP/9999", Paused="true")
            assert await c.read() == {"Response": "Error", "ActionID": "p3", "Message": "Interface not found"}
            await c.send(Action="QueuePause", ActionID="p4", Paused="true")
            assert (await c.read())["Message"] == "Need 'Interface' and 'Paused' parameters."

    run(story)
