"""Promised time limits in working days on the Chinese calendar (holidays and made-up workdays)."""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import chinese_calendar
from sqlalchemy.orm import Session

from dispatch.calendar_days import HOLIDAY, CalendarTable
from dispatch.clock import CHINA, local_date
from dispatch.errors import InvalidInput, Reason
from dispatch.vocabulary import RequestType, Urgency

log = logging.getLogger(__name__)

# Working days to resolve, by request type and urgency; a city overrides them in a JSON file.
DEFAULT_WORKING_DAYS: dict[str, dict[str, int]] = {
    RequestType.CONSULTATION.value: {"normal": 3, "urgent": 1},
    RequestType.HELP.value: {"normal": 5, "urgent": 1},
    RequestType.COMPLAINT.value: {"normal": 10, "urgent": 2},
    RequestType.REPORT.value: {"normal": 15, "urgent": 3},
    RequestType.SUGGESTION.value: {"normal": 15, "urgent": 5},
    RequestType.PRAISE.value: {"normal": 5, "urgent": 5},
}
DEFAULT_EXTENSION_MAX_WORKING_DAYS = 15


@dataclass(frozen=True)
class WorkCalendar:
    """Chinese working days: the days people set on the holidays page first
    (dispatch/calendar_days.py), then a city's own closure days from the deadlines file, then
    the chinese-calendar package.

    Past the years the package knows, it falls back to Monday-Friday and says so in the log
    once (and `calendar_days.coverage` on the page), rather than refusing to give a deadline.
    """

    extra_holidays: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()
    table: CalendarTable = field(default_factory=CalendarTable, compare=False, repr=False)
    _warned: set[int] = field(default_factory=set, compare=False, repr=False)
    _known: dict[dt.date, bool] = field(default_factory=dict, compare=False, repr=False)
    _known_version: list[int] = field(default_factory=lambda: [0], compare=False, repr=False)

    def sync(self, session: Session) -> None:
        """Bring the days people set up to date (a cheap version check, at most every few seconds)."""
        self.table.sync(session)

    def is_workday(self, day: dt.date) -> bool:
        # Every intake asks about the same few weeks of days: remember the answers for as
        # long as the table stays at the same version.
        version = self.table.snapshot.version
        if version != self._known_version[0]:
            self._known.clear()
            self._known_version[0] = version
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: dt.date) -> bool:
        entered = self.table.get(day)
        if entered is not None:
            return entered.kind != HOLIDAY
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned and not self.table.has_year(day.year):
                self._warned.add(day.year)
                log.warning("no official holiday data for %s; counting Monday-Friday", day.year,
                            extra={"event": "calendar_fallback", "year": day.year})
            return day.weekday() < 5

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """End of the `days`-th working day after the day of `start` (China time), in UTC."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = local_date(start)
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=CHINA)
        return end.astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class DeadlinePolicy:
    working_days: dict[str, dict[str, int]] = field(default_factory=lambda: DEFAULT_WORKING_DAYS)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    # A dispatch after an upheld 改派申请 gives the new unit a handling time of its own
    # (HOTLINE_REDISPATCH_RESTARTS_DEADLINE; dispatch/deadline_classes.on_redispatch).
    redispatch_restarts: bool = True
    # The most working days one 延期申请 may ask for (HOTLINE_EXTENSION_MAX_WORKING_DAYS): 12345
    # rules commonly allow a unit up to 15 working days more; a longer need is asked for again.
    extension_max_working_days: int = DEFAULT_EXTENSION_MAX_WORKING_DAYS

    def days_for(self, request_type: RequestType, urgency: Urgency) -> int:
        return self.working_days[request_type.value][urgency.value]

    def deadline(self, received_at: dt.datetime, request_type: RequestType, urgency: Urgency) -> dt.datetime:
        return self.calendar.add_working_days(received_at, self.days_for(request_type, urgency))

    def extend(self, deadline: dt.datetime, working_days: int) -> dt.datetime:
        return self.calendar.add_working_days(deadline, working_days)


def load_policy(path: Path | None) -> DeadlinePolicy:
    """Read a city's deadline file: {"working_days": {type: {urgency: n}}, "holidays": [...],
    "workdays": [...]}. Missing entries keep the defaults."""
    if path is None:
        return DeadlinePolicy()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        days = {t: dict(u) for t, u in DEFAULT_WORKING_DAYS.items()}
        for request_type, by_urgency in raw.get("working_days", {}).items():
            RequestType(request_type)
            for urgency, n in by_urgency.items():
                Urgency(urgency)
                if not isinstance(n, int) or n < 0:
                    raise ValueError(f"{request_type}/{urgency}: {n!r} is not a whole number of days")
                days[request_type][urgency] = n
        calendar = WorkCalendar(
            extra_holidays=frozenset(dt.date.fromisoformat(d) for d in raw.get("holidays", [])),
            extra_workdays=frozenset(dt.date.fromisoformat(d) for d in raw.get("workdays", [])),
        )
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise InvalidInput("deadlines", Reason.FILE_UNREADABLE, path=str(path), error=str(exc)) from exc
    return DeadlinePolicy(working_days=days, calendar=calendar)
