"""A PBX sending broken Timestamp headers, over real TCP: calls go on being recorded."""

import asyncio
import datetime as dt
import logging
import math

import pytest

from callcenter import events as ev
from callcenter.bridge import AmiBridge
from callcenter.simulator import Simulator
from tests.callcenter.test_ami_bridge import SECRET, Recorder, settings, until

BAD_TIMESTAMPS = ["nan", "inf", "-inf", "1e300", "-5", "99999999999", "soon"]


@pytest.mark.parametrize("value", BAD_TIMESTAMPS)
def test_a_broken_timestamp_falls_back_to_the_arrival_time(value, caplog):
    m = {"Event": "Hangup", "Timestamp": value, "Uniqueid": "1.1", "Linkedid": "1.1",
         "Channel": "PJSIP/a-1", "Cause": "16"}
    with caplog.at_level(logging.WARNING, logger="callcenter.events"):
        assert ev.parse(m, 1_700_000_000.0).at == 1_700_000_000.0
    assert "ami.malformed_timestamp" in caplog.text


def test_a_timestamp_a_day_away_from_the_arrival_time_is_not_believed():
    m = {"Event": "Hangup", "Timestamp": "1600000000.0", "Uniqueid": "1.1", "Linkedid": "1.1"}
    assert ev.parse(m, 1_700_000_000.0, max_skew=3600).at == 1_700_000_000.0
    assert ev.parse(m, 1_600_000_100.0, max_skew=3600).at == 1_600_000_000.0


def test_broken_timestamps_never_stop_recording_across_reconnects(caplog):
    reconnects = 7

    async def story():
        rec = Recorder()
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=2000) as sim:
            async with AmiBridge(settings(sim.port), rec.on_call) as bridge:
                await bridge.wait_connected(5)
                # Calls whose events carry broken times stay open when the link drops...
                for n, value in enumerate(BAD_TIMESTAMPS):
                    lid = f"1700000900.{n}"
                    sim.emit({"Event": "Newchannel", "Channel": f"PJSIP/trunk-{n}",
                              "Uniqueid": lid, "Linkedid": lid, "CallerIDNum": "13700137000",
                              "Exten": "12345"}, timestamp=float(value) if value != "soon"
                             else math.nan)
                sim.send_raw(b"Event: QueueCallerJoin\r\nTimestamp: nan\r\nUniqueid: 1700000900.0"
                             b"\r\nLinkedid: 1700000900.0\r\nQueue: 12345\r\nPosition: 1\r\n\r\n")
                await until(lambda: len(rec.records) >= len(BAD_TIMESTAMPS))
                later = []
                for i in range(reconnects):
                    # ... and every reconnect reconciles them: each must survive it.
                    await sim.cut_link()
                    await sim.restore_link()
                    await until(lambda: bridge.connections == i + 2)
                    await bridge.wait_connected(5)
                    later += await sim.play("answered")
                await until(lambda: set(later) <= set(rec.final()))
                await bridge.idle()
                return rec, later, bridge.connections
        raise AssertionError("unreachable")

    with caplog.at_level(logging.INFO):
        rec, later, connections = asyncio.run(asyncio.wait_for(story(), 60))
    assert connections == reconnects + 1
    assert "ami.session_crashed" not in caplog.text
    final = rec.final()
    assert [final[lid].outcome for lid in later] == ["answered"] * reconnects
    broken = [final[f"1700000900.{n}"] for n in range(len(BAD_TIMESTAMPS))]
    assert {r.outcome for r in broken} == {"lost"}  # closed at the first reconnect
    year = dt.datetime.now(dt.timezone.utc).year
    assert all(r.started_at.year == year for r in broken)
