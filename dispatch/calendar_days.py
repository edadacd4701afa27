"""Calendar days people set: holidays (节假日) and make-up workdays (调休上班) the State Council
announces each year, entered on the holidays page or imported from its notice as lines.

Working days are counted from this table first, then from the chinese-calendar package for
the years it knows, then (for years neither knows) from weekends alone; `coverage()` says
which years stand on what. Rows are never changed: removing a day adds a `cleared` row, and
the newest row of a day wins, so every change keeps who and when.

Import lines, one day or one range a line (blank lines and `#` comments skipped):

    2027-01-01 holiday 元旦
    2027-02-15..2027-02-21 节假日 春节
    2027-02-14 调休上班 春节
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import chinese_calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.actors import SUPERVISING_ROLES, Actor
from dispatch.clock import local_date, utcnow
from dispatch.errors import InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.models import CalendarDay
from dispatch.staff_activity import ActivityKind, record

HOLIDAY, WORKDAY, CLEARED = "holiday", "workday", "cleared"
# What an import line may call a kind: the English words and the notice's own.
KIND_WORDS = {"holiday": HOLIDAY, "节假日": HOLIDAY, "放假": HOLIDAY, "休": HOLIDAY,
              "workday": WORKDAY, "调休上班": WORKDAY, "上班": WORKDAY, "班": WORKDAY}
MAX_SPAN_DAYS = 15          # the longest official break is 8-9 days; more is a typo
NAME_MAX = 20
YEARS_BACK, YEARS_AHEAD = 1, 2  # dates accepted around today's year
CHECK_EVERY_SECONDS = 5.0   # how stale another process's change may be in this one's deadlines
# The package's English names, as the State Council's notice calls them.
OFFICIAL_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                  "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
                  "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利纪念日"}
# The festivals every year's notice sets: a year entered without one of them is half entered.
FESTIVALS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
log = logging.getLogger(__name__)
_RANGE = re.compile(r"\s*(?:\.\.|~|～|至)\s*")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class SetDay:
    """One row: what a day was set to, by whom and when."""

    day: dt.date
    kind: str
    name: str | None
    set_at: dt.datetime | None = None
    set_by: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """The table as of one version (its highest row id): the days in force, cleared ones left out."""

    version: int = 0
    days: Mapping[dt.date, SetDay] = field(default_factory=lambda: MappingProxyType({}))


def official_knows(year: int) -> bool:
    """Whether the chinese-calendar package has the State Council's notice for this year."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def read_snapshot(session: Session) -> Snapshot:
    days: dict[dt.date, SetDay] = {}
    version = 0
    for row in session.scalars(select(CalendarDay).order_by(CalendarDay.id)):
        version = row.id
        if row.kind == CLEARED:
            days.pop(row.day, None)
        else:
            days[row.day] = SetDay(row.day, row.kind, row.name, row.set_at, row.set_by)
    return Snapshot(version, MappingProxyType(days))


class CalendarTable:
    """The table held in memory for deadline arithmetic (every intake asks). `sync` looks at
    the version at most every `check_every` seconds and re-reads only when it moved;
    `invalidate` makes the next sync look at once (after this process changed the table)."""

    def __init__(self, check_every: float = CHECK_EVERY_SECONDS) -> None:
        self.check_every = check_every
        self.snapshot = Snapshot()
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def get(self, day: dt.date) -> SetDay | None:
        return self.snapshot.days.get(day)

    def has_year(self, year: int) -> bool:
        return any(day.year == year for day in self.snapshot.days)

    def sync(self, session: Session) -> None:
        now = time.monotonic()
        checked = self._checked_at
        if checked is not None and now - checked < self.check_every:
            return
        with self._lock:
            version = session.scalar(select(func.max(CalendarDay.id))) or 0
            if version != self.snapshot.version:
                self.snapshot = read_snapshot(session)
            self._checked_at = now

    def invalidate(self) -> None:
        self._checked_at = None


# -- what people enter ---------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    day: dt.date
    kind: str
    name: str
    line: int | None = None   # in an import; None on the page's form


@dataclass(frozen=True)
class Problem:
    line: int | None
    error: InvalidInput


@dataclass(frozen=True)
class Plan:
    """What an import or a form would do: new days, days already set alike (skipped), problems."""

    new: tuple[Entry, ...] = ()
    unchanged: tuple[Entry, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.new)


def parse_kind(word: str) -> str:
    kind = KIND_WORDS.get((word or "").strip().lower())
    if kind is None:
        raise InvalidInput("kind", Reason.BAD_CALENDAR_KIND, value=word)
    return kind


def parse_day(text: str, field_name: str = "day") -> dt.date:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        # 2027-02-30 is written right: telling its writer the format is wrong misleads.
        reason = Reason.NO_SUCH_DATE if _ISO_DAY.fullmatch((text or "").strip()) else Reason.BAD_DATE
        raise InvalidInput(field_name, reason, value=text) from None


def span(start: dt.date, end: dt.date | None) -> list[dt.date]:
    end = end or start
    if end < start:
        raise InvalidInput("end", Reason.PERIOD_REVERSED)
    days = (end - start).days + 1
    if days > MAX_SPAN_DAYS:
        raise InvalidInput("end", Reason.PERIOD_TOO_LONG, limit=MAX_SPAN_DAYS)
    return [start + dt.timedelta(days=n) for n in range(days)]


def parse_name(text: str) -> str:
    name = (text or "").strip()
    if not name:
        raise InvalidInput("festival", Reason.REQUIRED)
    if len(name) > NAME_MAX:
        raise InvalidInput("festival", Reason.TOO_LONG, limit=NAME_MAX)
    if any(c == "\x00" or "\ud800" <= c <= "\udfff" for c in name):  # a file may hold what no database stores
        raise InvalidInput("festival", Reason.UNSTORABLE)
    return name


def parse_lines(text: str) -> tuple[list[Entry], list[Problem]]:
    """The notice's lines as entries, one per day; a line that cannot be read is a problem."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = _RANGE.sub("..", line).split(None, 2)
        try:
            if len(parts) < 3:
                raise InvalidInput("lines", Reason.BAD_CALENDAR_LINE, value=raw.strip())
            dates, kind_word, name = parts
            first, _, last = dates.partition("..")
            days = span(parse_day(first), parse_day(last) if last else None)
            kind, name = parse_kind(kind_word), parse_name(name)
        except InvalidInput as exc:
            problems.append(Problem(number, exc))
            continue
        entries.extend(Entry(day, kind, name, number) for day in days)
    return entries, problems


def plan(entries: Iterable[Entry], current: Mapping[dt.date, SetDay], today: dt.date,
         problems: Iterable[Problem] = ()) -> Plan:
    """Check entries against the calendar and each other: dates near today, make-up workdays
    only on weekends, no day twice, no day already set otherwise."""
    low, high = dt.date(today.year - YEARS_BACK, 1, 1), dt.date(today.year + YEARS_AHEAD, 12, 31)
    found = list(problems)
    new: list[Entry] = []
    unchanged: list[Entry] = []
    seen: dict[dt.date, Entry] = {}
    for entry in entries:
        shown = entry.day.isoformat()
        if not low <= entry.day <= high:
            found.append(Problem(entry.line, InvalidInput("day", Reason.DATE_OUT_OF_RANGE, low=low.isoformat(),
                                                          high=high.isoformat())))
        elif entry.kind == WORKDAY and entry.day.weekday() < 5:
            found.append(Problem(entry.line, InvalidInput("day", Reason.WORKDAY_NOT_WEEKEND, day=shown)))
        elif entry.day in seen:
            found.append(Problem(entry.line, InvalidInput("day", Reason.DAY_REPEATED, day=shown,
                                                          first=seen[entry.day].line or "")))
        elif entry.day in current and (current[entry.day].kind, current[entry.day].name) != (entry.kind, entry.name):
            old = current[entry.day]
            found.append(Problem(entry.line, InvalidInput("day", Reason.DAY_ALREADY_SET, day=shown, calendar_kind=old.kind,
                                                          festival=old.name or "")))
        elif entry.day in current:
            unchanged.append(entry)
        else:
            new.append(entry)
        seen.setdefault(entry.day, entry)
    found.sort(key=lambda p: p.line or 0)
    return Plan(tuple(new), tuple(unchanged), tuple(found))


def plan_import(session: Session, text: str, today: dt.date | None = None) -> Plan:
    entries, problems = parse_lines(text)
    if not entries and not problems:
        problems = [Problem(None, InvalidInput("lines", Reason.NOTHING_TO_IMPORT))]
    return plan(entries, read_snapshot(session).days, today or local_date(utcnow()), problems)


def plan_range(session: Session, start: str, end: str, kind: str, name: str,
               today: dt.date | None = None) -> Plan:
    """The page's form: one day or a range of one kind and name. Bad fields raise at once."""
    first = parse_day(start, "start")
    last = parse_day(end, "end") if (end or "").strip() else None
    entries = [Entry(day, parse_kind(kind), parse_name(name)) for day in span(first, last)]
    return plan(entries, read_snapshot(session).days, today or local_date(utcnow()))


def apply(session: Session, planned: Plan, actor: Actor, *, now: dt.datetime | None = None) -> int:
    """Write a plan's new days; refuses a plan with problems. Returns how many were written."""
    _check_may_edit(actor)
    if planned.problems:
        raise planned.problems[0].error
    now = now or utcnow()
    session.add_all(CalendarDay(day=e.day, kind=e.kind, name=e.name, set_at=now, set_by=actor.label)
                    for e in planned.new)
    session.flush()
    if planned.new:
        log.info("calendar days set", extra={"event": "calendar_days_set", "actor": actor.label,
                                             "count": len(planned.new), "first": planned.new[0].day.isoformat(),
                                             "last": planned.new[-1].day.isoformat()})
        # Every deadline after it counts these days: who set them, in the staff activity log.
        days = sorted(e.day for e in planned.new)
        kinds = sorted({e.kind for e in planned.new})
        record(session, ActivityKind.CALENDAR_DAYS_SET, actor, target=f"calendar:{days[0].year}", now=now,
               detail={"since": days[0].isoformat(), "until": days[-1].isoformat(), "days": len(days),
                       "day_kind": kinds[0] if len(kinds) == 1 else "、".join(kinds),
                       "festival": "、".join(dict.fromkeys(e.name for e in planned.new))})
    return len(planned.new)


def remove(session: Session, day: dt.date, actor: Actor, *, now: dt.datetime | None = None) -> SetDay:
    """Back to the official calendar for this day; the row it had stays on record."""
    _check_may_edit(actor)
    current = read_snapshot(session).days.get(day)
    if current is None:
        raise NotFound(Reason.DAY_NOT_SET, day=day.isoformat())
    session.add(CalendarDay(day=day, kind=CLEARED, name=current.name, set_at=now or utcnow(), set_by=actor.label))
    session.flush()
    record(session, ActivityKind.CALENDAR_DAY_CLEARED, actor, target=f"calendar:{day.year}", now=now,
           detail={"day": day.isoformat(), "day_kind": [current.kind, CLEARED], "festival": current.name})
    log.info("calendar day cleared", extra={"event": "calendar_day_cleared", "actor": actor.label,
                                            "day": day.isoformat()})
    return current


# -- what the page, the API and the CLI show -----------------------------------------------

@dataclass(frozen=True)
class YearCoverage:
    """What working days of a year stand on: `entered` (days set here; the package fills in
    where it knows), `official` (the package alone) or `weekends` (nobody knows the year)."""

    year: int
    holidays: int
    workdays: int
    official: bool
    names: frozenset[str] = frozenset()  # of the holidays entered

    @property
    def basis(self) -> str:
        if self.holidays or self.workdays:
            return "entered"
        return "official" if self.official else "weekends"

    @property
    def missing(self) -> tuple[str, ...]:
        """Festivals not entered for a year the package does not know (their days count as
        ordinary weekdays until someone enters them)."""
        if self.official or self.basis != "entered":
            return ()
        return tuple(f for f in FESTIVALS if f not in self.names)


def coverage(days: Mapping[dt.date, SetDay], years: Iterable[int]) -> list[YearCoverage]:
    result = []
    for year in sorted(set(years)):
        mine = [d for d in days.values() if d.day.year == year]
        kinds = [d.kind for d in mine]
        result.append(YearCoverage(year, kinds.count(HOLIDAY), kinds.count(WORKDAY), official_knows(year),
                                   frozenset(d.name for d in mine if d.kind == HOLIDAY and d.name)))
    return result


def years_reached(today: dt.date) -> list[int]:
    """The years today's deadlines can reach: 15 working days, plus extensions, stay within
    about four months."""
    return sorted({today.year, (today + dt.timedelta(days=120)).year})


@dataclass(frozen=True)
class YearView:
    year: int
    coverage: YearCoverage
    days: tuple[SetDay, ...]        # in force, by date: entered ones (set_by) and the package's
    history: tuple[SetDay, ...]     # every row of the year, newest first (cleared ones too)


def official_days(year: int) -> list[SetDay]:
    if not official_knows(year):
        return []
    found = [SetDay(d, HOLIDAY, OFFICIAL_NAMES.get(n, n)) for d, n in chinese_calendar.holidays.items()
             if d.year == year]
    found += [SetDay(d, WORKDAY, OFFICIAL_NAMES.get(n, n)) for d, n in chinese_calendar.workdays.items()
              if d.year == year]
    return found


def year_view(session: Session, year: int) -> YearView:
    entered = read_snapshot(session).days
    mine = {d: s for d, s in entered.items() if d.year == year}
    days = {s.day: s for s in official_days(year)} | mine
    rows = session.scalars(select(CalendarDay).where(CalendarDay.day >= dt.date(year, 1, 1),
                                                     CalendarDay.day <= dt.date(year, 12, 31))
                           .order_by(CalendarDay.id.desc()))
    history = tuple(SetDay(r.day, r.kind, r.name, r.set_at, r.set_by) for r in rows)
    return YearView(year, coverage(entered, [year])[0], tuple(sorted(days.values(), key=lambda s: s.day)), history)


def years_listed(session: Session, today: dt.date) -> list[int]:
    """The years the page offers: those with entered days, and last year to the years reached."""
    entered = {d.year for d in session.scalars(select(CalendarDay.day).distinct())}
    return sorted(entered | {today.year - 1} | set(years_reached(today)))


def _check_may_edit(actor: Actor) -> None:
    # Staff need a supervising role; the CLI acts as the system, like the other commands.
    if not actor.is_system and actor.role not in SUPERVISING_ROLES:
        raise PermissionDenied(Reason.ROLE_NOT_ALLOWED, actor=actor.label, what="edit the holiday calendar")
