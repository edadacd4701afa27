"""AMI events/s through the bridge, beside a raw read of the same bytes in the same run.

    .venv/bin/python bench/ami.py                    # 1,000,000 events
    .venv/bin/python bench/ami.py --events 200000

A TCP server (in its own thread and event loop, so it does not share the measured loop)
answers Login, CoreShowChannels and QueueStatus like Asterisk, then streams queue traffic
recorded from the simulator's scripts (every call with fresh ids). Measured:
- raw: an asyncio client reading every byte of the stream;
- bridge: AmiBridge (panoramisk framing -> events.parse -> CallAssembler -> AgentStates ->
  an on_call callback), timed until it has seen every event.
RSS is printed along the bridge run: closed calls must not accumulate.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.memory import rss_mb  # noqa: E402
from callcenter import scenarios as sc  # noqa: E402
from callcenter import wire  # noqa: E402
from callcenter.bridge import AmiBridge, BridgeSettings  # noqa: E402

TEMPLATE_EPOCH = 1000000  # ids in the template block are "1000000.N"; each block renumbers


def template_block() -> tuple[bytes, int, int]:
    """One block of calls as wire bytes, with its event and call counts."""
    ids = sc.Ids(epoch=TEMPLATE_EPOCH)
    out: list[bytes] = []
    calls = 0
    t0 = 1_700_000_000.0
    for n in range(20):
        for name in ("answered", "ring_no_answer", "abandoned", "timeout", "ivr_only",
                     "transfer"):
            steps = sc.SCRIPTS[name](ids, sc.DEFAULT_MEMBERS, n)
            calls += 1
            for step in steps:
                if step.event is not None:
                    head = {"Event": step.event["Event"],
                            "Privilege": step.event["Privilege"],
                            "Timestamp": f"{t0 + step.at:.6f}"}
                    out.append(wire.encode(head | step.event))
            t0 += 30
    return b"".join(out), len(out), calls


class StreamServer:
    """Streams ``n_blocks`` renumbered copies of a block to each client after its
    QueueStatus, then hangs up. It runs in its own process, as Asterisk would, so it takes
    neither the measured loop nor the GIL; renumbering on the fly keeps memory flat."""

    def __init__(self, block: bytes, n_blocks: int):
        self.block, self.n_blocks = block, n_blocks
        self.port = 0
        self._process: multiprocessing.Process | None = None

    def start(self) -> None:
        ours, theirs = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("fork").Process(
            target=self._run, args=(theirs,), daemon=True)
        self._process.start()
        self.port = ours.recv()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join()

    def _run(self, pipe: Connection) -> None:
        async def serve() -> None:
            server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            pipe.send(server.sockets[0].getsockname()[1])
            await server.serve_forever()

        asyncio.run(serve())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/5.0.2\r\n")
        listed = asyncio.Event()
        answering = asyncio.create_task(self._answer(reader, writer, listed))
        try:
            await listed.wait()
            marker = f"{TEMPLATE_EPOCH}.".encode()
            for i in range(self.n_blocks):
                writer.write(self.block.replace(marker, f"{TEMPLATE_EPOCH + i + 1}.".encode()))
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            answering.cancel()
            writer.close()

    @staticmethod
    async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      listed: asyncio.Event) -> None:
        # Like Asterisk: answer Login, the two lists the bridge asks after login, and Ping.
        while True:
            try:
                raw = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            action = next(wire.decode(raw.decode()))
            aid = {"ActionID": action.get("ActionID", "")}
            name = action.get("Action", "").lower()
            if name == "login":
                writer.write(wire.encode({"Response": "Success", **aid,
                                          "Message": "Authentication accepted"}))
            elif name == "ping":
                writer.write(wire.encode({"Response": "Success", **aid, "Ping": "Pong",
                                          "Timestamp": f"{time.time():.6f}"}))
            elif name in ("coreshowchannels", "queuestatus"):
                done = "CoreShowChannelsComplete" if name == "coreshowchannels" \
                    else "QueueStatusComplete"
                writer.write(wire.encode({"Response": "Success", **aid, "EventList": "start",
                                          "Message": "Will follow"}))
                writer.write(wire.encode({"Event": done, **aid, "EventList": "Complete",
                                          "ListItems": "0"}))
                if name == "queuestatus":
                    listed.set()


async def raw_read(port: int) -> tuple[int, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    for action in ("Login", "CoreShowChannels", "QueueStatus"):
        writer.write(wire.encode({"Action": action, "ActionID": action}))
    await writer.drain()
    n = 0
    t0 = time.perf_counter()
    while chunk := await reader.read(1 << 16):
        n += len(chunk)
    elapsed = time.perf_counter() - t0
    writer.close()
    return n, elapsed


async def bridge_read(port: int, events: int, calls: int) -> tuple[float, int, list[str]]:
    records = 0

    async def on_call(record: object) -> None:
        nonlocal records
        records += 1

    settings = BridgeSettings(host="127.0.0.1", port=port, username="bench", secret="bench",
                              backoff_initial=60.0, sweep_interval=3600.0)
    bridge = AmiBridge(settings, on_call)
    marks: list[str] = []
    next_mark = events // 4
    await bridge.start()
    await bridge.wait_connected(10)
    t0 = time.perf_counter()
    while bridge.events_seen < events:
        await asyncio.sleep(0.005)
        if bridge.connections > 1:
            raise SystemExit("the bridge lost its connection during the run")
        if bridge.events_seen >= next_mark:
            marks.append(f"  after {bridge.events_seen:>9,} events: RSS {rss_mb():6.1f} MB, "
                         f"open calls {len(bridge.calls)}")
            next_mark += events // 4
    elapsed = time.perf_counter() - t0
    await bridge.idle()
    await bridge.stop()
    if len(bridge.calls) != 0:
        marks.append(f"  WARNING: {len(bridge.calls)} calls still open")
    return elapsed, records, marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("callcenter.bridge").setLevel(logging.ERROR)  # the end-of-stream drop

    block, per_block, calls_per_block = template_block()
    n_blocks = max(1, round(args.events / per_block))
    events, calls = per_block * n_blocks, calls_per_block * n_blocks
    size = len(block) * n_blocks
    server = StreamServer(block, n_blocks)
    server.start()
    print(f"stream: {events:,} events, {calls:,} calls, {size / 1e6:.1f} MB")
    try:
        nbytes, raw_s = asyncio.run(raw_read(server.port))
        print(f"raw read:  {raw_s:7.2f} s  {events / raw_s:>12,.0f} events/s  "
              f"({nbytes / raw_s / 1e6:.0f} MB/s)")
        before = rss_mb()
        print(f"RSS before bridge run: {before:.1f} MB")
        bridge_s, records, marks = asyncio.run(bridge_read(server.port, events, calls))
        print("\n".join(marks))
        print(f"bridge:    {bridge_s:7.2f} s  {events / bridge_s:>12,.0f} events/s  "
              f"parsed and applied ({records:,} call records, {calls:,} calls)")
        print(f"RSS after bridge run: {rss_mb():.1f} MB (before {before:.1f} MB)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
