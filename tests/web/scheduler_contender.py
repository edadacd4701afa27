"""One contender for the scheduler role, as a process of its own: the app's Leadership and
scheduler on a clock read from a file, so the test moves time on for every process at once.

    python -m tests.web.scheduler_contender DATABASE_URL CLOCK_FILE

Prints `scheduler held` / `scheduler released` as it wins or loses the role, and `ran <time>`
after each round of jobs it ran."""
from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

from web import scheduler
from web.config import Settings
from web.leadership import SCHEDULER, Leadership
from web.services import Services

EVERY_SECONDS = 0.2


def file_clock(path: Path) -> scheduler.Clock:
    def now() -> dt.datetime:
        moment = dt.datetime.fromisoformat(path.read_text().strip())
        print(f"ran {moment.isoformat()}", flush=True)  # printed as the round starts
        return moment

    return now


async def contend(database_url: str, clock_file: Path) -> None:
    services = Services.build(Settings(database_url=database_url))
    leadership = Leadership(services.engine, retry_seconds=EVERY_SECONDS,
                            on_change=lambda role, held: print(f"{role} {'held' if held else 'released'}",
                                                               flush=True))
    work = lambda: scheduler.running(services, every=EVERY_SECONDS, clock=file_clock(clock_file))  # noqa: E731
    async with leadership.role(SCHEDULER, work):
        await asyncio.Event().wait()  # until the test kills the process


if __name__ == "__main__":
    asyncio.run(contend(sys.argv[1], Path(sys.argv[2])))
