"""The call centre under faults, counted: broken PBX timestamps across reconnects, calls made
during an AMI outage (with queue_log recovery, beside the same run without it), and calls
arriving while the database is read-only. Real simulator over TCP, real recorder, SQLite or
PostgreSQL (--database-url; its public schema is rebuilt).

    .venv/bin/python bench/faults.py [--reconnects 7] [--outage-calls 30] [--database-url URL]
"""
from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
from pathlib import Path

from sqlalchemy import delete, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callcenter import queue_log as ql  # noqa: E402
from callcenter.bridge import AmiBridge, BridgeSettings  # noqa: E402
from callcenter.recorder import CallRecorder  # noqa: E402
from callcenter.simulator import Simulator  # noqa: E402
from dispatch import db  # noqa: E402
from dispatch.models import Call, Callback  # noqa: E402

SECRET = "bench"
MIX = ["answered", "abandoned", "timeout", "ring_no_answer", "transfer"]


def _settings(port: int, **kw: float) -> BridgeSettings:
    return BridgeSettings(host="127.0.0.1", port=port, username="hotline", secret=SECRET,
                          backoff_initial=0.02, backoff_max=0.2, action_timeout=1.0, **kw)


async def _until(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.01)
    return True


def _forget_calls(sessions) -> None:  # type: ignore[no-untyped-def]
    """Each part starts from no calls: simulators started within one second reuse ids."""
    with sessions.begin() as session:
        session.execute(delete(Callback))
        session.execute(delete(Call))


def _counts(sessions, linkedids: list[str]) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        rows = session.scalars(select(Call.linkedid).where(Call.linkedid.in_(linkedids))).all()
        callbacks = session.scalar(select(func.count()).select_from(Callback)
                                   .join(Call, Call.id == Callback.call_id)
                                   .where(Call.linkedid.in_(linkedids))) or 0
    return len(set(rows)), len(rows) - len(set(rows)), callbacks


async def bad_timestamps(sessions, reconnects: int) -> None:  # type: ignore[no-untyped-def]
    recorder = CallRecorder(sessions)
    async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=2000) as sim:
        async with AmiBridge(_settings(sim.port), recorder.on_call) as bridge:
            await bridge.wait_connected(5)
            for n, value in enumerate((math.nan, math.inf, -math.inf, 1e300, -5.0)):
                lid = f"1700000900.{n}"
                sim.emit({"Event": "Newchannel", "Channel": f"PJSIP/trunk-{n}", "Uniqueid": lid,
                          "Linkedid": lid, "CallerIDNum": "13700137000", "Exten": "12345"},
                         timestamp=value)
            survived, later = 0, []
            for i in range(reconnects):
                await sim.cut_link()
                await sim.restore_link()
                if await _until(lambda: bridge.connections == i + 2, 5):
                    survived += 1
                    later += await sim.play("answered")
            await _until(lambda: all(bridge.calls.is_closed(lid) for lid in later), 5)
            await bridge.idle()
    recorded, _, _ = _counts(sessions, later)
    print(f"bad timestamps: {survived} of {reconnects} reconnects survived; "
          f"{recorded} of {reconnects} later calls recorded ({len(later)} played)")


async def outage(sessions, calls: int, recover: bool) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "queue_log"

        async def read(since: float) -> list[ql.QueueLogEntry]:
            return await asyncio.to_thread(ql.read_file, path, since)

        recorder = CallRecorder(sessions)
        async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=400, queue_log=path) as sim:
            bridge = AmiBridge(_settings(sim.port), recorder.on_call,
                               queue_log=read if recover else None)
            async with bridge:
                await bridge.wait_connected(5)
                await sim.cut_link()
                names = [MIX[i % len(MIX)] for i in range(calls)]
                played = [lid for ids in await asyncio.gather(*(sim.play(n) for n in names))
                          for lid in ids]
                await sim.restore_link()
                await _until(lambda: bridge.connections == 2 and bridge.connected, 10)
                await bridge.idle()
        missed = sum(1 for n in names if n in ("abandoned", "timeout"))
        recorded, duplicates, callbacks = _counts(sessions, played)
        return recorded, duplicates, callbacks, missed


async def read_only(database_url: str, sessions, calls: int) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    engine = db.make_engine(database_url)
    state = {"read_only": True}

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        if engine.dialect.name == "sqlite":
            dbapi_connection.execute(f"PRAGMA query_only = {1 if state['read_only'] else 0}")
        else:
            cursor = dbapi_connection.cursor()
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION "
                           + ("READ ONLY" if state["read_only"] else "READ WRITE"))
            cursor.close()
            dbapi_connection.commit()

    recorder = CallRecorder(db.make_sessionmaker(engine))
    async with Simulator("127.0.0.1", 0, "hotline", SECRET, speed=2000) as sim:
        s = _settings(sim.port, write_retry_initial=0.05, write_retry_max=0.2)
        async with AmiBridge(s, recorder.on_call) as bridge:
            await bridge.wait_connected(5)
            played = [lid for ids in await asyncio.gather(*(sim.play(MIX[i % len(MIX)])
                                                             for i in range(calls)))
                      for lid in ids]
            await _until(lambda: bridge.write_retries >= 3, 5)
            during, _, _ = _counts(sessions, played)
            state["read_only"] = False
            engine.dispose()
            await bridge.idle()
            retries = bridge.write_retries
    engine.dispose()
    after, duplicates, _ = _counts(sessions, played)
    print(f"read-only database: {len(played)} calls played, {during} written while read-only, "
          f"{after} written after ({duplicates} duplicates, {retries} refused attempts retried)")


async def main(args: argparse.Namespace) -> None:
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/faults.db"
    db.recreate_schema(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    await bad_timestamps(sessions, args.reconnects)
    _forget_calls(sessions)
    base = await outage(sessions, args.outage_calls, recover=False)
    _forget_calls(sessions)
    with_log = await outage(sessions, args.outage_calls, recover=True)
    _forget_calls(sessions)
    for label, (recorded, duplicates, callbacks, missed) in (("without queue_log (baseline)", base),
                                                             ("with queue_log", with_log)):
        print(f"outage, {label}: {args.outage_calls} calls played while the link was down, "
              f"{recorded} recorded after restore, {duplicates} duplicates, "
              f"{callbacks} of {missed} missed calls on the callback list")
    await read_only(url, sessions, args.outage_calls)
    engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reconnects", type=int, default=7)
    parser.add_argument("--outage-calls", type=int, default=30)
    parser.add_argument("--database-url")
    asyncio.run(main(parser.parse_args()))
