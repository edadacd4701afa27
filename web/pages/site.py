"""What the pages share, built once in the lifespan: templates, the session and CSRF keeper,
rate limits, the public board's cache and the watcher that refreshes it on every change, and
the figures cache (keyed on the change marker each request reads)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from dispatch import idempotency, kept_forms, notices, rate_counters, staff_notices
from dispatch.clock import utcnow
from dispatch.queries import change_stamp, changes
from web.auth import Auth, AuthSettings
from web.late_ids import LateIds
from web.live import LiveHub
from web.pages import labels
from web.pages.options import options
from web.pages.board_cache import BoardCache
from web.pages.figures_cache import FiguresCache
from web.services import Services

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

BOARD_TOPIC = "board"
# Published with the board's: which tickets changed (None: too many to say), for open ticket pages.
TICKETS_TOPIC = "tickets"
# Published with the board's: which units' inboxes the change may have moved (None: too many).
UNITS_TOPIC = "units"
# Published when a unit was told something new (any unit: each inbox fetches its own list).
NOTICES_TOPIC = "notices"
# How often the watcher looks for changes made elsewhere (other workers, SMS, the CLI).
WATCH_SECONDS = 1.0
# How often the watcher forgets rate-limit windows that ended (any process may do it).
PRUNE_SECONDS = 3600.0


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.auto_reload = False   # the templates ship with the code: no stat of each file per page
    env.filters.update(label=labels.label, action=labels.action_label, public_action=labels.public_action_label, local=labels.local_time,
                       short=labels.short_time, pct=labels.percent, ticket_links=labels.ticket_links,
                       actor=labels.actor_label, phone=labels.phone_label, tel=labels.tel_href, contact=labels.contact_label,
                       activity_detail=labels.activity_detail, baseline_days=labels.baseline_days_label)
    env.globals.update(options=options, buckets=labels.BUCKETS_ZH, time_left=labels.time_left, rates_zh=labels.ASSESSMENT_RATES_ZH,
                       tiers_zh=labels.TIERS_ZH, no_tier=labels.NO_TIER, day_kinds=labels.DAY_KINDS_ZH,
                       unit_kinds=labels.UNIT_KINDS_ZH,
                       unit_fields=labels.UNIT_FIELDS_ZH,
                       kept_form_restored=labels.KEPT_FORM_RESTORED, kept_form_elsewhere=labels.KEPT_FORM_ELSEWHERE,
                       rated_unsatisfied=labels.RATED_UNSATISFIED, rated_closed=labels.RATED_CLOSED,
                       answered_by_hotline=labels.ANSWERED_BY_HOTLINE, board_words=labels.BOARD_WORDS_ZH,
                       board_few=labels.BOARD_FEW, board_no_units=labels.BOARD_NO_UNITS)
    env.trim_blocks = env.lstrip_blocks = True
    return templates


class Site:
    def __init__(self, services: Services, hub: LiveHub, *, auth_settings: AuthSettings | None = None,
                 key: str | None = None) -> None:
        self.services = services
        self.hub = hub
        self.templates = make_templates()
        self.auth = Auth(key or services.session_key(), auth_settings, secure=services.settings.secure_cookies)
        self.password_checks = anyio.CapacityLimiter(1)   # argon2 verifies, in threads (login.py)
        self.stamp = -1
        self.notice_stamp = -1
        self.generation = 0   # bumped on every change seen; the board cache keys on it
        self._late, self._late_notices = LateIds(), LateIds()   # ids missing under the stamps
        self._poke = asyncio.Event()
        self.board = BoardCache(services, self.render_text, lambda: self.generation)
        self.figures = FiguresCache()   # the stats API's, the dashboard's, the inbox's, the console's

    def changed(self) -> None:
        """A request of ours committed a ticket change: drop the cached figures now and let
        the watcher tell the live pages."""
        self.generation += 1
        self.board.clear()
        self._poke.set()

    async def watch(self) -> None:
        """Look for new ticket events (ours when poked, anyone's every WATCH_SECONDS) and
        publish one board update per change seen."""
        self.stamp = await self._read_stamp(self.stamp)
        await self._look_for_notices()
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._poke.wait(), WATCH_SECONDS)
            self._poke.clear()
            if loop.time() >= next_prune:
                next_prune = loop.time() + PRUNE_SECONDS
                await self._prune_counters()
            await self._look_for_notices()
            stamp = await self._read_stamp(self.stamp)
            if stamp != self.stamp or self._late:
                numbers, units = await self._read_changed(self.stamp, stamp)
                if stamp == self.stamp and numbers == frozenset():
                    continue   # nothing new, and the late ones are not there yet
                self.stamp = stamp
                self.generation += 1
                self.board.clear()
                self.hub.deliver(BOARD_TOPIC, {"stamp": stamp, "generation": self.generation})
                self.hub.deliver(TICKETS_TOPIC, numbers)
                self.hub.deliver(UNITS_TOPIC, units)
                await self._look_for_settled(numbers)

    async def _prune_counters(self) -> None:
        try:
            await self.services.run(rate_counters.prune)
            await self.services.run(kept_forms.prune)
            await self.services.run(idempotency.prune)
        except Exception:  # a database hiccup must not end the watcher
            log.exception("could not prune rate counters", extra={"event": "rate_counters_prune_error"})

    async def _look_for_notices(self) -> None:
        """Notices come from the scheduler, which may run in another process: watch the table,
        and say whom the new ones are for (the units, staff members and roles; None for each:
        too many to say), so that each open page fetches its list only when it got one."""
        try:
            latest = await self.services.run(notices.latest_id)
            if latest == self.notice_stamp and not self._late_notices:
                return
            if self.notice_stamp < 0:
                self.notice_stamp = latest
                return
            before, now = self.notice_stamp, asyncio.get_running_loop().time()
            late = self._late_notices.asked(now)
            told = await self.services.run(lambda s: notices.addressees(s, before, latest, late))
        except Exception:  # a database hiccup must not end the watcher
            log.exception("could not read the latest notice", extra={"event": "notice_watch_error"})
            return
        self._late_notices.read(before, latest, told.notices, now, whole=told.units is not None)
        self.notice_stamp = latest
        if told.notices:
            self.hub.deliver(NOTICES_TOPIC, told)

    async def _look_for_settled(self, numbers: frozenset[str] | None) -> None:
        """A request decided or lapsed (in this process or another) settles its supervisors'
        notices without a new one: told as new notices are, so the open lists show 已处理 and
        the header counts go down live."""
        try:
            told = await self.services.run(lambda s: staff_notices.settled_on(s, numbers))
        except Exception:  # a database hiccup must not end the watcher
            log.exception("could not read the settled notices", extra={"event": "notice_watch_error"})
            return
        if told is not None:
            self.hub.deliver(NOTICES_TOPIC, told)

    async def _read_stamp(self, otherwise: int) -> int:
        try:
            return await self.services.run(change_stamp)
        except Exception:  # a database hiccup must not end the watcher
            log.exception("board watcher could not read the change stamp", extra={"event": "board_watch_error"})
            return otherwise

    async def _read_changed(self, before: int, stamp: int) -> tuple[frozenset[str] | None, frozenset[int] | None]:
        """The tickets changed and the units concerned (None, None: every page looks for itself)."""
        if before < 0:
            return None, None
        now = asyncio.get_running_loop().time()
        late = self._late.asked(now)
        try:
            found = await self.services.run(lambda s: changes(s, before, stamp, late))
        except Exception:  # a database hiccup must not end the watcher: every page looks for itself
            log.exception("board watcher could not read the changed tickets", extra={"event": "board_watch_error"})
            return None, None
        self._late.read(before, stamp, found.events, now, whole=found.numbers is not None)
        return found.numbers, found.units

    def render(self, request: Request, name: str, context: dict[str, Any], status: int = 200,
               headers: dict[str, str] | None = None) -> HTMLResponse:
        """A page, with the CSRF token its forms carry and the logged-in user if any."""
        context = {"request": request, "csrf_token": self.auth.csrf_token(request),
                   "user": getattr(request.state, "user", None), "now": utcnow(),
                   "kept_form": getattr(request.state, "kept_form", None),
                   "nav_unread": getattr(request.state, "nav_unread", None), **context}
        response = self.templates.TemplateResponse(request, name, context, status_code=status, headers=headers)
        self.auth.attach(request, response)
        return response

    def render_text(self, name: str, context: dict[str, Any]) -> str:
        return self.templates.get_template(name).render({"now": utcnow(), "user": None, **context})


@contextlib.asynccontextmanager
async def running(services: Services, hub: LiveHub, *, auth_settings: AuthSettings | None = None) -> AsyncIterator[Site]:
    key = await services.off_loop(services.session_key)  # may read the database: off the loop
    site = Site(services, hub, auth_settings=auth_settings, key=key)
    watcher = asyncio.create_task(site.watch(), name="board-watcher")
    try:
        yield site
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
