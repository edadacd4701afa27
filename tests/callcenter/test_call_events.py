import logging

from panoramisk.message import Message

from callcenter import events as ev


def test_recorded_queue_events_parse_with_their_units(recording):
    parsed = [ev.parse(m, 1.0) for m in recording("queue_events.ami")]
    rna = next(e for e in parsed if isinstance(e, ev.AgentRingNoAnswer))
    connect = next(e for e in parsed if isinstance(e, ev.AgentConnect))
    complete = next(e for e in parsed if isinstance(e, ev.AgentComplete))
    assert rna.ring_seconds == 15.0  # RingTime: 15000 is milliseconds here
    assert (connect.hold_time, connect.ring_time) == (18, 3)  # ... and seconds here
    assert (complete.talk_time, complete.reason) == (180, "agent")
    assert connect.linkedid == "1700000100.55" and connect.dest_uniqueid == "1700000100.57"
    assert connect.interface == "PJSIP/7002" and connect.member_name == "Li Na"


def test_debug_headers_and_unknown_fields_are_ignored(recording):
    first = recording("queue_events.ami")[0]
    assert first["SequenceNumber"] == "101"
    e = ev.parse(first, 5.0)
    assert e == ev.Newchannel(5.0, "1700000100.55", "1700000100.55", "PJSIP/trunk-00000031",
                              "13912345678", "13912345678", "12345", "from-pstn")


def test_unknown_events_give_none(recording):
    cdr = next(m for m in recording("queue_events.ami") if m["Event"] == "Cdr")
    assert ev.parse(cdr, 1.0) is None
    assert ev.parse({"Event": "RTCPSent", "Channel": "x"}, 1.0) is None
    assert ev.parse({"Response": "Success"}, 1.0) is None


def test_malformed_value_is_logged_and_skipped(recording, caplog):
    bad = [m for m in recording("queue_events.ami") if m.get("HoldTime") == "about ten"]
    assert len(bad) == 1
    with caplog.at_level(logging.WARNING, logger="callcenter.events"):
        assert ev.parse(bad[0], 1.0) is None
    assert "ami.malformed_event event=AgentConnect linkedid=1700000400.60" in caplog.text
    assert ev.parse({"Event": "Hangup", "Channel": "PJSIP/x-1"}, 1.0) is None  # no ids


def test_timestamp_header_wins_over_arrival_time():
    m = {"Event": "Hangup", "Timestamp": "1700000000.250000", "Uniqueid": "1.1",
         "Linkedid": "1.1", "Channel": "PJSIP/a-1", "Cause": "16", "Cause-txt": "Normal Clearing"}
    assert ev.parse(m, 99.0).at == 1700000000.25


def test_cacofonisk_recordings_parse_without_loss(recording):
    for name in ("queue_simple.json", "queue_a_cancel.json", "queue_attn_xfer.json"):
        messages = recording(name)
        parsed = [ev.parse(m, 1.0) for m in messages]
        used = {"Newchannel", "Hangup", "DialBegin", "DialEnd", "BridgeEnter",
                "AttendedTransfer", "QueueCallerAbandon", "VarSet", "Newexten"}
        expected = sum(1 for m in messages if m["Event"] in used)
        assert sum(1 for p in parsed if p is not None) >= expected
    xfer = [p for p in (ev.parse(m, 1.0) for m in recording("queue_attn_xfer.json"))
            if isinstance(p, ev.AttendedTransfer)]
    assert xfer == [ev.AttendedTransfer(1.0, "Success", "f29ea68048f6-1530022819.2433",
                                        "f29ea68048f6-1530022836.2474",
                                        "f29ea68048f6-1530022819.2433", "202")]


def test_queue_status_reply_members_use_location_and_name(recording):
    members = [ev.parse(m, 1.0) for m in recording("queue_status.yaml")
               if m.get("Event") == "QueueMember"]
    assert len(members) == 6
    assert members[0].interface == "Local/id-9@agentcallback"
    assert members[0].member_name == "Agent/220"
    assert members[-1].paused is True and members[-1].status == 5


def test_panoramisk_messages_parse_the_same_as_plain_dicts(recording):
    for m in recording("queue_events.ami"):
        assert ev.parse(Message(m), 1.0) == ev.parse(m, 1.0)
