"""Click commands for the telephony side; web/cli.py attaches them to ``hotline``.

Options also read HOTLINE_AMI_* environment variables, so a deployment sets them once for
both ``hotline serve`` and ``hotline pbx-bridge``. The bridge and the simulator are imported
when a command runs: ``hotline --help`` should not load panoramisk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from callcenter.scenarios import DEMO_ROTATION, SCENARIOS

if TYPE_CHECKING:
    from callcenter.agents import AgentState
    from callcenter.bridge import BridgeSettings, QueueLogReader
    from callcenter.calls import CallRecord

log = logging.getLogger(__name__)


async def until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


@click.command("pbx-sim")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOTLINE_AMI_HOST")
@click.option("--port", default=5038, show_default=True, envvar="HOTLINE_AMI_PORT")
@click.option("--username", default="hotline", show_default=True,
              envvar="HOTLINE_AMI_USERNAME")
@click.option("--secret", default="hotline", show_default=True, envvar="HOTLINE_AMI_SECRET")
@click.option("--speed", default=1.0, show_default=True,
              help="PBX seconds per real second; 10 shows a call every two seconds.")
@click.option("--gap", default=20.0, show_default=True,
              help="PBX seconds between the start of two scenarios.")
@click.option("--scenario", "scenarios", multiple=True, type=click.Choice(SCENARIOS),
              help="Scenarios to play in turn (default: a rotation of all).")
@click.option("--once", is_flag=True, help="Play the scenarios once instead of forever.")
@click.option("--queue-log", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the PBX's queue_log lines of the calls played to this file.")
@click.option("-v", "--verbose", is_flag=True)
def pbx_sim(host: str, port: int, username: str, secret: str, speed: float, gap: float,
            scenarios: tuple[str, ...], once: bool, queue_log: Path | None, verbose: bool) -> None:
    """Run an AMI simulator playing realistic 12345 queue traffic."""
    from callcenter.simulator import Simulator

    _setup_logging(verbose)

    async def main() -> None:
        sim = Simulator(host, port, username, secret, scenarios=scenarios or DEMO_ROTATION,
                        speed=speed, gap=gap, repeat=not once, queue_log=queue_log)
        async with sim:
            await until_signalled()

    asyncio.run(main())


async def log_call(record: CallRecord) -> None:
    log.info("call linkedid=%s outcome=%s caller=%s queue=%s agent=%s wait=%s talk=%s",
             record.linkedid, record.outcome, record.caller_num, record.queue, record.agent,
             record.wait_seconds, record.talk_seconds)


async def log_agent(state: AgentState) -> None:
    log.info("agent interface=%s logged_in=%s paused=%s paused_reason=%s ringing=%s on_call=%s",
             state.interface, state.logged_in, state.paused, state.paused_reason, state.ringing, state.on_call)


def run_bridge(settings: BridgeSettings,
               on_call: Callable[[CallRecord], Awaitable[None]] = log_call,
               on_agent: Callable[[AgentState], Awaitable[None]] = log_agent,
               queue_log: QueueLogReader | None = None) -> None:
    """Run the bridge until SIGINT/SIGTERM; the lead passes the recorder's callbacks."""
    from callcenter.bridge import AmiBridge

    async def main() -> None:
        async with AmiBridge(settings, on_call, on_agent, queue_log=queue_log):
            await until_signalled()

    asyncio.run(main())
