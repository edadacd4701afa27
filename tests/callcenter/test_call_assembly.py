from datetime import datetime, timezone

from callcenter import events as ev
from callcenter.agents import AgentStates
from callcenter.calls import CallAssembler, CallRecord


def play(messages, assembler=None, t0=1000.0):
    assembler = assembler or CallAssembler()
    records = []
    for i, m in enumerate(messages):
        e = ev.parse(m, t0 + i)
        r = assembler.apply(e) if e is not None else None
        if r is not None:
            records.append(r)
    return assembler, records


def finals(records: list[CallRecord]) -> dict[str, CallRecord]:
    return {r.linkedid: r for r in records if r.final}


def test_queue_call_with_ring_no_answer_then_second_agent(recording):
    assembler, records = play(recording("queue_events.ami"))
    call = finals(records)["1700000100.55"]
    assert call.outcome == "answered"
    assert (call.caller_num, call.dialed_num, call.queue, call.ivr_choice) == (
        "13912345678", "12345", "12345", "2")
    assert call.agents_rung == ("PJSIP/7001", "PJSIP/7002")
    assert call.ring_no_answers == ("PJSIP/7001",)
    assert (call.agent, call.agent_name) == ("PJSIP/7002", "Li Na")
    assert (call.wait_seconds, call.talk_seconds) == (18.0, 180.0)
    assert (call.hangup_cause, call.hangup_cause_txt) == (16, "Normal Clearing")
    # the call with a malformed AgentConnect is still open, and abandoned so far
    assert [r.linkedid for r in assembler.open_calls] == ["1700000400.60"]


def test_every_change_gives_a_record_and_the_last_one_is_final(recording):
    _, records = play(recording("queue_events.ami"))
    mine = [r for r in records if r.linkedid == "1700000100.55"]
    assert [r.outcome for r in mine[:-1]] == ["open"] * (len(mine) - 1)
    assert mine[-1].final and len(mine) >= 5


def test_recorded_calls_get_their_outcomes(recording):
    simple = finals(play(recording("queue_simple.json"))[1])
    [call] = simple.values()
    assert (call.outcome, call.caller_num, call.dialed_num) == (
        "answered", "+31150010001", "+31150010004")
    cancel = finals(play(recording("queue_a_cancel.json"))[1])
    assert [c.outcome for c in cancel.values()] == ["abandoned"]
    xfer = finals(play(recording("queue_attn_xfer.json"))[1])
    original = xfer["f29ea68048f6-1530022819.2433"]
    assert (original.outcome, original.transferred_to) == ("transferred", "202")
    # the operator's consultation call is a call of its own, closed too
    assert xfer["f29ea68048f6-1530022836.2474"].outcome == "answered"


def test_replaying_the_same_events_gives_the_same_records(recording):
    messages = recording("queue_attn_xfer.json") + recording("queue_events.ami")
    a1, first = play(messages)
    _, second = play(messages)
    assert first == second
    # the same stream again into the same assembler (a replay after a reconnect) is a no-op
    _, again = play(messages, assembler=a1)
    assert [r for r in again if r.linkedid in finals(first)] == []


def _call(at, lid, extra=()):
    base = {"Uniqueid": lid, "Linkedid": lid, "Channel": "PJSIP/trunk-1",
            "Timestamp": f"{at:.6f}"}
    return {**base, **dict(extra)}


def test_sweep_closes_calls_whose_hangup_never_came():
    a = CallAssembler()
    a.apply(ev.parse(_call(100, "1.1", {"Event": "Newchannel", "CallerIDNum": "139",
                                         "Exten": "12345"}), 0))
    a.apply(ev.parse(_call(101, "1.1", {"Event": "QueueCallerJoin", "Queue": "12345",
                                         "Position": "1"}), 0))
    assert a.sweep(now=200, max_age=3600) == []
    [lost] = a.sweep(now=101 + 3600, max_age=3600)
    assert lost.outcome == "lost" and lost.queue == "12345"
    assert lost.ended_at == datetime.fromtimestamp(3701, tz=timezone.utc)
    assert len(a) == 0 and a.is_closed("1.1")


def test_reconcile_closes_vanished_calls_by_their_evidence_and_adopts_new_ones():
    a = CallAssembler()
    for m in ({"Event": "Newchannel", "CallerIDNum": "139", "Exten": "12345"},
              {"Event": "QueueCallerJoin", "Queue": "12345", "Position": "1"},
              {"Event": "AgentConnect", "Queue": "12345", "Interface": "PJSIP/7001",
               "MemberName": "A", "HoldTime": "7", "RingTime": "2", "DestUniqueid": "1.2"}):
        a.apply(ev.parse(_call(100, "1.1", m), 0))
    a.apply(ev.parse(_call(100, "2.1", {"Event": "Newchannel", "CallerIDNum": "137"}), 0))
    live = [ev.CoreShowChannel(500, "2.1", "2.1", "PJSIP/trunk-2", "137", "12345", "Queue",
                               "12345,t", 30),
            ev.CoreShowChannel(500, "3.1", "3.1", "PJSIP/trunk-3", "136", "12345", "Queue",
                               "12345,t", 12)]
    records = {r.linkedid: r for r in a.reconcile(live, now=500)}
    assert records["1.1"].outcome == "answered"  # it was answered: not a callback case
    assert records["1.1"].talk_seconds is None  # unknown, not invented
    assert records["3.1"].outcome == "open" and records["3.1"].queue == "12345"
    assert "2.1" not in records
    assert sorted(r.linkedid for r in a.open_calls) == ["2.1", "3.1"]


def test_closed_calls_are_not_kept():
    a = CallAssembler(remember_closed=100)
    for n in range(1000):
        lid = f"9.{n}"
        a.apply(ev.parse(_call(n, lid, {"Event": "Newchannel", "CallerIDNum": "1"}), 0))
        a.apply(ev.parse(_call(n, lid, {"Event": "Hangup", "Cause": "16"}), 0))
    assert len(a) == 0
    assert len(a._closed) == 100 and len(a._channel_call) == 0


def test_agent_states_follow_member_and_agent_events(recording):
    agents = AgentStates()
    changes = []
    for m in recording("queue_events.ami"):
        e = ev.parse(m, 1.0)
        if e is not None:
            changes += agents.apply(e)
    zhang = agents["PJSIP/7003"]
    assert zhang.logged_in and zhang.paused and zhang.paused_reason == "lunch"
    li = agents["PJSIP/7002"]
    assert not li.on_call and not li.ringing
    assert any(c.interface == "PJSIP/7002" and c.on_call for c in changes)
    assert any(c.interface == "PJSIP/7001" and c.ringing for c in changes)
    assert not agents["PJSIP/7001"].ringing


def test_a_call_adopted_mid_talk_is_answered_when_agent_complete_comes():
    a = CallAssembler()
    live = [ev.CoreShowChannel(500, "4.1", "4.1", "PJSIP/trunk-4", "135", "12345", "Queue",
                               "12345,t", 40),
            ev.CoreShowChannel(500, "4.1", "4.2", "PJSIP/7002-4", "7002", "7002", "AppQueue",
                               "(Outgoing Line)", 30)]
    [adopted] = a.reconcile(live, now=500)
    assert adopted.outcome == "open" and adopted.caller_num == "135"
    a.apply(ev.parse(_call(560, "4.1", {
        "Event": "AgentComplete", "Queue": "12345", "Interface": "PJSIP/7002",
        "MemberName": "Li Na", "HoldTime": "10", "TalkTime": "50", "Reason": "caller",
        "DestUniqueid": "4.2"}), 0))
    a.apply(ev.parse(_call(560, "4.1", {"Event": "Hangup", "Cause": "16"}), 0))
    [final] = [r for r in [a.apply(ev.parse({**_call(560, "4.1", {"Event": "Hangup"}),
                                              "Uniqueid": "4.2"}, 0))] if r]
    assert (final.outcome, final.agent, final.talk_seconds, final.wait_seconds) == (
        "answered", "PJSIP/7002", 50.0, 10.0)
