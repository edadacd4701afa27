"""Simulator -> real TCP -> panoramisk -> bridge -> CallRecords, and the PBX misbehaving."""

import asyncio
import logging
import socket

import pytest

from callcenter.bridge import ActionTimeout, AmiBridge, BridgeSettings
from callcenter.simulator import Simulator

SECRET = "s3cret"


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def settings(port: int, **kw) -> BridgeSettings:
    base = dict(host="127.0.0.1", port=port, username="hotline", secret=SECRET,
                backoff_initial=0.02, backoff_max=0.2, action_timeout=1.0)
    return BridgeSettings(**(base | kw))


class Recorder:
    """What the lead's recorder would get: the last record per call, and agent changes."""

    def __init__(self):
        self.records = []
        self.agents = []

    async def on_call(self, record):
        self.records.append(record)

    async def on_agent(self, state):
        self.agents.append(state)

    def final(self):
        return {r.linkedid: r for r in self.records if r.final}


async def until(predicate, timeout=5.0):
    async def poll():
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


@pytest.mark.parametrize("scenario, outcome, agent, wait, talk", [
    ("answered", "answered", "PJSIP/7001", 12, 95),
    ("ring_no_answer", "answered", "PJSIP/7002", 21, 118),
    ("abandoned", "abandoned", None, 8, None),
    ("timeout", "timeout", None, 60, None),
    ("ivr_only", "ivr_only", None, None, None),
    ("transfer", "transferred", "PJSIP/7001", 5, 60),
])
def test_each_scenario_becomes_one_call_with_its_outcome(scenario, outcome, agent, wait, talk):
    async def story():
        rec = Recorder()
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=2000) as sim:
            async with AmiBridge(settings(sim.port), rec.on_call, rec.on_agent) as bridge:
                await bridge.wait_connected(5)
                [linkedid] = await sim.play(scenario)
                await until(lambda: linkedid in rec.final())
                call = rec.final()[linkedid]
                assert (call.outcome, call.agent) == (outcome, agent)
                assert (call.wait_seconds, call.talk_seconds) == (wait, talk)
                assert call.caller_num.startswith("138") and call.dialed_num == "12345"
                if scenario == "ring_no_answer":
                    assert call.ring_no_answers == ("PJSIP/7001",)
                    assert call.agents_rung == ("PJSIP/7001", "PJSIP/7002")
                if scenario == "ivr_only":
                    assert call.ivr_choice == "9" and call.queue is None
                if scenario == "transfer":
                    assert call.transferred_to == "8000"
                assert len(bridge.calls) == 0
    run(story())


def test_a_burst_of_simultaneous_calls_is_all_recorded_and_agents_follow():
    async def story():
        rec = Recorder()
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=2000, burst=30) as sim:
            async with AmiBridge(settings(sim.port), rec.on_call, rec.on_agent) as bridge:
                await bridge.wait_connected(5)
                linkedids = await sim.play("burst")
                await until(lambda: set(linkedids) <= set(rec.final()))
                assert {rec.final()[lid].outcome for lid in linkedids} == {"answered"}
                await bridge.idle()
                assert any(a.on_call for a in rec.agents)
                assert not any(a.on_call or a.ringing for a in bridge.agents.all())
                assert {a.interface for a in bridge.agents.all()} == {
                    "PJSIP/7001", "PJSIP/7002", "PJSIP/7003"}
    run(story())


def test_two_bridges_on_one_stream_assemble_the_same_records():
    async def story():
        one, two = Recorder(), Recorder()
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=2000) as sim:
            async with AmiBridge(settings(sim.port), one.on_call) as b1, \
                    AmiBridge(settings(sim.port, md5_login=True), two.on_call) as b2:
                await b1.wait_connected(5)
                await b2.wait_connected(5)
                for name in ("answered", "transfer", "abandoned"):
                    await sim.play(name)
                await until(lambda: len(one.final()) == 3 and len(two.final()) == 3)
                await b1.idle()
                await b2.idle()
        assert one.records == two.records
        assert sorted(sim.logins) == ["md5", "plain"]
    run(story())


def test_malformed_packets_are_logged_and_skipped(caplog):
    async def story():
        rec = Recorder()
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=2000) as sim:
            async with AmiBridge(settings(sim.port), rec.on_call) as bridge:
                await bridge.wait_connected(5)
                sim.emit({"Event": "AgentConnect", "Uniqueid": "1.1", "Linkedid": "1.1",
                          "Interface": "PJSIP/7001", "HoldTime": "soon", "RingTime": "x"})
                sim.send_raw(b"this is not AMI at all\r\n\r\nEvent: Hangup\r\n\r\n")
                [linkedid] = await sim.play("answered")
                await until(lambda: linkedid in rec.final())
                assert rec.final()[linkedid].outcome == "answered"
    with caplog.at_level(logging.WARNING):
        run(story())
    assert "ami.malformed_event event=AgentConnect" in caplog.text


def test_wrong_secret_is_logged_and_retried_with_backoff(caplog):
    async def story():
        async with Simulator("127.0.0.1", 0, "hotline", SECRET) as sim:
            bridge = AmiBridge(settings(sim.port, secret="wrong"), Recorder().on_call)
            async with bridge:
                await until(lambda: caplog.text.count("ami.login_failed") >= 3)
                assert not bridge.connected
    with caplog.at_level(logging.INFO):
        run(story())
    assert "message=Authentication failed" in caplog.text
    delays = [float(line.split("seconds=")[1].split()[0])
              for line in caplog.text.splitlines() if "ami.reconnect_in" in line]
    assert delays[:3] == [0.02, 0.04, 0.08]


def test_refused_connection_at_start_then_the_pbx_comes_up(caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def story():
        async with AmiBridge(settings(port), Recorder().on_call) as bridge:
            await until(lambda: "ami.connect_failed" in caplog.text)
            async with Simulator("127.0.0.1", port, "hotline", SECRET):
                await bridge.wait_connected(5)
    with caplog.at_level(logging.INFO):
        run(story())


def test_pbx_restart_mid_call_reconnects_and_closes_the_vanished_calls(caplog):
    async def story():
        rec = Recorder()
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=200) as sim:
            async with AmiBridge(settings(sim.port), rec.on_call) as bridge:
                await bridge.wait_connected(5)
                waiting = asyncio.create_task(sim.play("timeout"))  # sits in the queue
                await until(lambda: any(r.queue and r.outcome == "open" for r in rec.records))
                [talking] = await sim.play("restart")  # the restart also drops `waiting`
                await asyncio.gather(waiting, return_exceptions=True)
                await until(lambda: bridge.connections == 2)
                await until(lambda: len(rec.final()) == 2)
                final = rec.final()
                assert final[talking].outcome == "answered"  # it was answered: keep that
                assert final[talking].agent == "PJSIP/7002"  # second call, next agent
                [lost] = [r for lid, r in final.items() if lid != talking]
                assert lost.outcome == "lost" and lost.queue == "12345"
                assert len(bridge.calls) == 0
                # and the bridge keeps working on the restarted PBX
                [after] = await sim.play("abandoned")
                await until(lambda: after in rec.final())
    with caplog.at_level(logging.INFO):
        run(story())
    assert "ami.connection_lost" in caplog.text
    assert "ami.reconciled open_before=2 closed=2" in caplog.text


def test_an_action_that_never_answers_times_out():
    async def story():
        async with Simulator("127.0.0.1", 0, "hotline", SECRET,
                             silent_actions={"originate"}) as sim:
            async with AmiBridge(settings(sim.port, action_timeout=0.2),
                                 Recorder().on_call) as bridge:
                await bridge.wait_connected(5)
                loop = asyncio.get_running_loop()
                t0 = loop.time()
                with pytest.raises(ActionTimeout) as err:
                    await bridge.originate("PJSIP/7001", "13800138000", "callback",
                                           "12345 <12345>", ring_timeout=0.1)
                assert err.value.action == "Originate"
                assert loop.time() - t0 < 1.0
                assert bridge.connected  # a silent action is not a dead PBX
    run(story())


def test_a_silent_pbx_during_reconcile_makes_the_bridge_retry(caplog):
    async def story():
        async with Simulator("127.0.0.1", 0, "hotline", SECRET,
                             silent_actions={"coreshowchannels"}) as sim:
            async with AmiBridge(settings(sim.port, action_timeout=0.1),
                                 Recorder().on_call) as bridge:
                await until(lambda: caplog.text.count("ami.action_timeout") >= 2)
                assert not bridge.connected
    with caplog.at_level(logging.INFO):
        run(story())
    assert "action=CoreShowChannels" in caplog.text


def test_originate_for_a_callback():
    async def story():
        rec = Recorder()
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=100) as sim:
            async with AmiBridge(settings(sim.port), rec.on_call) as bridge:
                await bridge.wait_connected(5)
                ok = await bridge.originate("PJSIP/7001", "13800138000", "callback",
                                            "12345 <12345>")
                assert ok.success and ok.reason == 4 and ok.dial_status == "ANSWER"
                sim.dial_status["13800138001"] = "NOANSWER"
                unanswered = await bridge.originate("PJSIP/7001", "13800138001", "callback",
                                                    "12345 <12345>")
                # The operator's phone answered; the citizen's did not.
                assert unanswered.success and unanswered.dial_status == "NOANSWER"
                busy = await bridge.originate("PJSIP/busy", "13800138000", "callback",
                                              "12345 <12345>")
                assert not busy.success and busy.reason == 5 and busy.dial_status is None
                assert sim.originated[0]["channelid"] == ok.uniqueid
                await asyncio.sleep(0.1)
                # The hotline's own calls out are not callers' calls: no record of them.
                assert rec.records == []
                assert sim.originated[0]["callerid"] == "12345 <12345>"
    run(story())


def test_sweep_closes_a_call_whose_hangup_never_came():
    async def story():
        rec = Recorder()
        async with Simulator("127.0.0.1", 0, "hotline", SECRET) as sim:
            s = settings(sim.port, sweep_interval=0.05, max_call_age=0.2)
            async with AmiBridge(s, rec.on_call) as bridge:
                await bridge.wait_connected(5)
                sim.emit({"Event": "Newchannel", "Channel": "PJSIP/trunk-9", "Uniqueid": "7.1",
                          "Linkedid": "7.1", "CallerIDNum": "13700137000", "Exten": "12345"})
                await until(lambda: "7.1" in rec.final())
                assert rec.final()["7.1"].outcome == "lost"
    run(story())


def test_a_live_caller_is_redirected_and_a_gone_channel_is_refused():
    from callcenter.bridge import ActionFailed
    from callcenter.handover import HANDOVER_CONTEXT, redirect_caller
    from dispatch.vocabulary import DialResult

    async def story():
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=20) as sim:
            async with AmiBridge(settings(sim.port), Recorder().on_call) as bridge:
                await bridge.wait_connected(5)
                playing = asyncio.ensure_future(sim.play("answered"))
                await asyncio.sleep(1.0)  # connected to an agent at 0.65 s, talking until 5.4 s
                live = await bridge.live_channels()
                caller = next(c for c in live if c.uniqueid == c.linkedid)
                assert caller.channel.startswith("PJSIP/trunk-")
                assert await redirect_caller(bridge, caller.linkedid, "110") is DialResult.REDIRECTED
                assert sim.redirected[0]["channel"] == caller.channel
                assert (sim.redirected[0]["exten"], sim.redirected[0]["context"]) == ("110", HANDOVER_CONTEXT)
                assert await redirect_caller(bridge, "no-such-call", "110") is DialResult.HUNG_UP
                with pytest.raises(ActionFailed):
                    await bridge.redirect("PJSIP/trunk-gone", "110", HANDOVER_CONTEXT)
                playing.cancel()
    run(story())


def test_an_agent_paused_through_the_bridge_is_seen_paused_with_its_reason_then_ready_again():
    from callcenter.bridge import ActionFailed, NotConnected

    async def story():
        rec = Recorder()
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=20) as sim:
            bridge = AmiBridge(settings(sim.port), rec.on_call, rec.on_agent)
            with pytest.raises(NotConnected):  # not started: nothing to send it on
                await bridge.pause("PJSIP/7002", True, "meal")
            async with bridge:
                await bridge.wait_connected(5)
                await bridge.pause("PJSIP/7002", True, "meal")
                await until(lambda: bridge.agents["PJSIP/7002"].paused)
                assert bridge.agents["PJSIP/7002"].paused_reason == "meal"
                await bridge.idle()
                assert (rec.agents[-1].interface, rec.agents[-1].paused, rec.agents[-1].paused_reason) == \
                    ("PJSIP/7002", True, "meal")
                await bridge.pause("PJSIP/7002", False)
                await until(lambda: not bridge.agents["PJSIP/7002"].paused)
                assert bridge.agents["PJSIP/7002"].paused_reason == ""
                with pytest.raises(ActionFailed, match="Interface not found"):
                    await bridge.pause("PJSIP/9999", True, "break")
    run(story())
