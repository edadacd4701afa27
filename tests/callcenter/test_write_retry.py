"""The database refuses writes while calls come in: the bridge keeps every call in memory,
retries with backoff, and records each one once writes work again."""

import asyncio
import logging

from sqlalchemy import func, select

from callcenter.bridge import AmiBridge
from callcenter.recorder import CallRecorder
from callcenter.simulator import Simulator
from dispatch.db import make_sessionmaker
from dispatch.models import Call, Callback
from tests.callcenter.test_ami_bridge import SECRET, settings, until
from tests.read_only import Switch


def test_calls_wait_in_memory_while_the_database_is_read_only(database_url, sessions, caplog):
    switch = Switch(database_url)
    refused = sessions  # the test's own, writable, sessions read what was recorded

    def recorded():
        with refused() as session:
            return dict(session.execute(select(Call.linkedid, Call.outcome)).all())

    async def story():
        recorder = CallRecorder(make_sessionmaker(switch.engine))
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=2000) as sim:
            s = settings(sim.port, write_retry_initial=0.02, write_retry_max=0.1)
            async with AmiBridge(s, recorder.on_call) as bridge:
                await bridge.wait_connected(5)
                played = [lid for name in ("answered", "abandoned", "timeout")
                          for lid in await sim.play(name)]
                await until(lambda: bridge.write_retries >= 3)
                assert recorded() == {}  # nothing written, nothing dropped
                switch.writable()
                await bridge.idle()
                return played, bridge.write_retries

    with caplog.at_level(logging.WARNING):
        played, retries = asyncio.run(asyncio.wait_for(story(), 30))
    switch.engine.dispose()
    assert recorded() == dict(zip(played, ["answered", "abandoned", "timeout"]))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Callback)) == 2
    assert retries >= 3
    assert "ami.write_refused reason=read_only" in caplog.text
