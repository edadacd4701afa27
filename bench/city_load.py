"""A city's history written straight into PostgreSQL with COPY: tickets with their events,
transfers, extension requests, intake sources, calls and texts, the routing outcomes of the
tickets the classifier proposed for (dispatch/routing_feedback.py), and the running totals
behind the figures (dispatch/rollup.py), so the app reads them as it reads its own.

Each day of history is a day of the demo city (Jiyuan): a pool of tickets is taken through
the lifecycle by the demo's own history generator (dispatch/demo_history.py: real labelled
citizen texts, units faster or slower, returns, extensions, ratings, what has not happened
by now stays open), then every pooled ticket stands for several of that day's tickets, each
with its own number, query code, phone, text of the same category, place and a time up to
two hours earlier (its whole story moved with it; a duplicate's copy moves as its main
ticket's copy does). Running the generator for every ticket
would take an hour of CPU at ten million; copying its stories takes minutes.

Secondary indexes and unique constraints of the loaded tables (the search indexes of
dispatch/text_search.py among them) are dropped before the COPY and built after it; the
COPY sessions run with session_replication_role = replica, which skips foreign key checks
(the rows are made consistent here). Events carry no hash chain (`hotline audit verify`
reports them as breaks) unless --hash-chain is given.

Used by bench/city.py and by tests/web/test_city_load.py (at a few thousand tickets).
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import json
import math
import multiprocessing
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

LOADED = ("tickets", "ticket_events", "transfers", "extension_requests", "intake_sources", "calls",
          "sms_inbound", "routing_outcomes")
NUMBERED = LOADED[:-1]    # ids from a sequence (a routing outcome's key is its ticket's)
POOL = 1500               # lifecycle stories generated per day; the day's tickets copy them
JITTER = 2 * 3600         # seconds a copy may be moved earlier than its story
BODY_CHARS = 300          # an operator's summary of what the citizen said
STREETS = ("文昌路", "黄河大道", "济源大道", "沁园路", "天坛路", "宣化街", "愚公路", "荆梁路", "玉泉路",
           "南环路", "北海大道", "汤帝路", "建业路", "学苑路", "御驾路")
PLACES = ("小区", "家属院", "社区", "村", "花园", "商业街", "菜市场", "学校门口", "公交站")
REPLY_RECEIVED = "【12345】您的诉求已受理，工单号{number}，查询码{code}。可凭工单号和查询码查询办理进度。"
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]")   # translate() walks Chinese text char by char: only when needed
_ZERO = dt.timedelta(0)
_CITY = re.compile(r"[A-Z]\d*市")
_DISTRICT = re.compile(r"[A-Z]\d+区")

Say = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class DayTask:
    """One China day of history and the id blocks its rows take."""

    day: dt.date
    count: int
    first_seq: int         # the day's ticket numbers continue after what is there
    ticket_id: int
    event_id: int          # blocks wide enough for the day's rows, so streams need no sequence
    transfer_id: int
    extension_id: int
    call_id: int
    sms_id: int


@dataclasses.dataclass
class Loaded:
    tickets: int = 0
    rows: int = 0
    counts: dict[str, int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    samples: list[tuple[str, str, str | None]] = dataclasses.field(default_factory=list)  # number, code, phone


# -- COPY text format --

def _q(v: Any) -> str:
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, str):
        return v.translate(_ESCAPE) if _SPECIAL.search(v) else v
    if isinstance(v, dt.datetime):
        return v.isoformat() if v.tzinfo is None or v.utcoffset() == _ZERO else v.astimezone(dt.timezone.utc).isoformat()
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False).translate(_ESCAPE)
    return str(v)


def _ts(t: dt.datetime | None, shift: dt.timedelta) -> str:
    # Aware UTC: PostgreSQL drops the +00:00 of a timestamp without time zone, as UTCDateTime stores it.
    return "\\N" if t is None else (t - shift).isoformat()


def _line(values: Iterator[Any] | tuple[Any, ...] | list[Any]) -> str:
    return "\t".join(map(_q, values)) + "\n"


# What differs between the copies of one story comes first; the rest is formatted once a story.
TICKET_COLUMNS = ("id", "number", "query_code", "title", "body", "phone", "received_at", "merged_into_id",
                  "resolved_at", "closed_at",
                  "channel", "request_type", "urgency", "name", "location", "township", "confidential", "category",
                  "unit_id",
                  "state", "deadline", "reply", "routing", "transfer_count", "accepted_transfer_count",
                  "return_count", "resolved_on_time", "rating", "rating_channel", "follow_up_attempts",
                  "close_reason", "handover_to", "open_dispute_id", "version", "catalogue_entry_id")
EVENT_COLUMNS = ("id", "ticket_id", "at", "actor_id", "actor", "action", "from_state", "to_state", "unit_id", "note",
                 "data", "prev_hash", "hash")
TRANSFER_COLUMNS = ("id", "ticket_id", "transferred_at", "responded_at", "resolved_at", "unit_id", "received_day",
                    "outcome", "return_reason", "resolved_on_time", "routing", "role")
EXTENSION_COLUMNS = ("id", "ticket_id", "requested_at", "decided_at", "unit_id", "requested_by", "working_days",
                     "reason", "status", "decided_by", "decision_note")
SOURCE_COLUMNS = ("id", "ticket_id", "channel", "channel_ref", "received_at", "body", "call_linkedid")
CALL_COLUMNS = ("id", "linkedid", "caller", "dialed", "ivr_choice", "queue", "started_at", "entered_queue_at",
                "answered_at", "ended_at", "agent", "agent_name", "ring_no_answers", "hangup_cause", "wait_seconds",
                "talk_seconds", "outcome", "updated_at", "ticket_id")
SMS_COLUMNS = ("id", "message_sid", "sender", "received_at", "body", "intent", "ticket_id", "reply")
ROUTING_OUTCOMES = ("ticket_id", "received_at", "proposed_category", "proposed_unit_code", "automatic",
                    "first_unit_code", "final_unit_code", "final_category", "unit_accepted", "category_accepted",
                    "corrected", "returned")
COLUMNS = {"tickets": TICKET_COLUMNS, "ticket_events": EVENT_COLUMNS, "transfers": TRANSFER_COLUMNS,
           "extension_requests": EXTENSION_COLUMNS, "intake_sources": SOURCE_COLUMNS, "calls": CALL_COLUMNS,
           "sms_inbound": SMS_COLUMNS, "routing_outcomes": ROUTING_OUTCOMES}


# -- plan --

def plan(session: Any, tickets: int, per_day: int, now: dt.datetime) -> list[DayTask]:
    """Days ending today (China time), fewer tickets on rest days and on today so far."""
    from sqlalchemy import func, select

    from dispatch.clock import local_date
    from dispatch.demo_history import HOUR_WEIGHTS
    from dispatch.models import Ticket, TicketSequence
    from dispatch.deadlines import load_policy

    calendar = load_policy(None).calendar
    calendar.sync(session)
    today = local_date(now)
    days = max(1, math.ceil(tickets / per_day))
    hour = now.astimezone(_china()).hour
    today_share = sum(HOUR_WEIGHTS[:hour + 1]) / sum(HOUR_WEIGHTS)
    weights = []
    for back in range(days - 1, -1, -1):
        day = today - dt.timedelta(days=back)
        weights.append((day, (1.0 if calendar.is_workday(day) else 0.55) * (today_share if back == 0 else 1.0)))
    total = sum(w for _, w in weights)
    counts = [int(tickets * w / total) for _, w in weights]
    for i in range(tickets - sum(counts)):
        counts[-1 - i % len(counts)] += 1
    stamps = [d.strftime("%Y%m%d") for d, _ in weights]
    last = dict(session.execute(select(TicketSequence.day, TicketSequence.last).where(TicketSequence.day.in_(stamps))).all())
    first = int(session.scalar(select(func.coalesce(func.max(Ticket.id), 0)))) + 1
    tasks, ids = [], {"t": first, "e": 1_000_000, "x": 1, "e2": 1, "c": 1_000_000, "s": 1_000_000}
    ids["e"] = _next_id(session, "ticket_events")
    ids["x"] = _next_id(session, "transfers")
    ids["e2"] = _next_id(session, "extension_requests")
    ids["c"] = _next_id(session, "calls")
    ids["s"] = _next_id(session, "sms_inbound")
    for (day, _), count, stamp in zip(weights, counts, stamps):
        if count == 0:
            continue
        tasks.append(DayTask(day, count, last.get(stamp, 0) + 1, ids["t"], ids["e"], ids["x"], ids["e2"], ids["c"], ids["s"]))
        ids["t"] += count
        ids["e"] += count * 24
        ids["x"] += count * 6
        ids["e2"] += count
        ids["c"] += count * 2
        ids["s"] += count * 2
    return tasks


def _next_id(session: Any, table: str) -> int:
    from sqlalchemy import text
    return int(session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}"))) + 1


def _china() -> dt.tzinfo:
    from dispatch.clock import CHINA
    return CHINA


# -- one day, in a worker process --

class _Day:
    """Worker state: the demo generator over this database, kept across days."""

    def __init__(self, url: str, now: dt.datetime, seed: int, hash_chain: bool) -> None:
        from sqlalchemy.orm import Session

        from classifier.dataset import DATA_DIR, read_examples
        from dispatch import db
        from dispatch.demo import demo_actors
        from dispatch.demo_history import HistorySize, _Generator
        from web.config import Settings
        from web.services import Services

        self.url, self.now, self.seed, self.hash_chain = url, now, seed, hash_chain
        self.services = Services.build(Settings(database_url=url))
        self.engine = db.make_engine(url)
        self.session = Session(self.engine)
        self.generator = _Generator(self.session, self.services.city, self.services.rules, HistorySize(seed=seed),
                                    now, demo_actors(self.session))
        self.session.rollback()
        by_category: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for e in read_examples(DATA_DIR / "dev.csv"):
            if e.title and e.body:
                by_category[e.label].append((e.title, _summary(e.body)))
        self.texts = dict(by_category)
        self.made: dict[tuple[str, int, str], tuple[str, str]] = {}   # a text placed, escaped for COPY
        self.agents = [(f"PJSIP/80{i:02d}", f"话务员{i:02d}") for i in range(1, 61)]
        self.codes = {unit.id: code for code, unit in self.generator.units.items()}

    def run(self, task: DayTask) -> tuple[dict[str, int], list[tuple[str, str, str | None]]]:
        from dispatch import audit, rollup
        from dispatch.clock import CHINA
        from dispatch.demo_history import HOUR_WEIGHTS, _HashView

        g = self.generator
        rng = random.Random(self.seed * 1_000_003 + task.day.toordinal())
        g.rng, g.recent = rng, {}
        start = dt.datetime.combine(task.day, dt.time(0), tzinfo=CHINA).astimezone(dt.timezone.utc)
        pool = min(task.count, POOL)
        times = sorted(_arrivals(rng, start, pool, self.now, HOUR_WEIGHTS))
        stories = [g.story(task.ticket_id + i, f"T{i}", at) for i, at in enumerate(times)]
        for s in stories:  # a merged ticket keeps no unit (lifecycle.merge), as demo_history writes it
            if s.merged_into is not None:
                s.row["unit_id"] = None
        index = {id(s): i for i, s in enumerate(stories)}
        copies = [task.count // pool + (i < task.count % pool) for i in range(pool)]
        made = []   # every copy: (received_at, story, copy number, shift)
        shifts: dict[tuple[int, int], dt.timedelta] = {}
        for i, s in enumerate(stories):
            received = s.row["received_at"]
            room = min(JITTER, (received - start).total_seconds())
            # A duplicate's copy k moves with its main ticket's copy k (the main is earlier,
            # so it has as many copies and less room): the merge stays after both receipts.
            main = index[id(s.merged_into)] if s.merged_into is not None else None
            for k in range(copies[i]):
                shift = shifts.get((main, k)) if main is not None else None
                if shift is None:
                    shift = dt.timedelta(seconds=int(rng.random() * room)) if k else dt.timedelta(0)
                shifts[(i, k)] = shift
                made.append((received - shift, i, k, shift))
        made.sort(key=lambda m: (m[0], m[1], m[2]))
        ids = {(i, k): task.ticket_id + n for n, (_, i, k, _) in enumerate(made)}
        numbers = {(i, k): f"{task.day:%Y%m%d}-{task.first_seq + n:04d}" for n, (_, i, k, _) in enumerate(made)}
        # What every copy of a story shares, as the tail of its COPY lines.
        tails = [self._tails(s) for s in stories]
        outcomes = [self._outcome(s) for s in stories]
        out: dict[str, list[str]] = {name: [] for name in LOADED}
        events: list[tuple[dt.datetime, int, str]] = []   # (at, seq, line without its id)
        samples = []
        next_id = {"x": task.transfer_id, "e2": task.extension_id, "c": task.call_id, "s": task.sms_id}
        hashed = self.hash_chain
        for n, (received, i, k, shift) in enumerate(made):
            s, tid, number, at = stories[i], task.ticket_id + n, numbers[(i, k)], received.isoformat()
            row, (ticket_tail, event_tails, transfer_tails, extension_tail) = s.row, tails[i]
            title, body = self._text(rng, row)   # escaped
            phone = row["phone"] if row["phone"] is None else f"+861{'3578'[int(rng.random() * 4)]}{int(rng.random() * 4_000_000):09d}"
            code = f"{int(rng.random() * 1_000_000):06d}"
            main = None
            if s.merged_into is not None:
                m = index[id(s.merged_into)]
                main = ids.get((m, k)) or ids[(m, 0)]
            out["tickets"].append(f"{tid}\t{number}\t{code}\t{title}\t{body}\t{_q(phone)}\t{at}\t"
                                  f"{_q(main)}\t{_ts(row['resolved_at'], shift)}\t{_ts(row['closed_at'], shift)}\t"
                                  f"{ticket_tail}")
            if outcomes[i] is not None:
                out["routing_outcomes"].append(f"{tid}\t{at}\t{outcomes[i]}")
            if n % max(1, task.count // 20) == 0:
                samples.append((number, code, phone))
            extension_id = None
            if s.extension is not None:
                extension_id = next_id["e2"]
                next_id["e2"] += 1
                x = s.extension
                out["extension_requests"].append(f"{extension_id}\t{tid}\t{_ts(x['requested_at'], shift)}\t"
                                                 f"{_ts(x['decided_at'], shift)}\t{extension_tail}")
            for t, tail in zip(s.transfers, transfer_tails):
                out["transfers"].append(f"{next_id['x']}\t{tid}\t{_ts(t['transferred_at'], shift)}\t"
                                        f"{_ts(t['responded_at'], shift)}\t{_ts(t['resolved_at'], shift)}\t{tail}")
                next_id["x"] += 1
            linkedid = None
            if row["channel"] == "phone":
                linkedid = f"{received.timestamp():.0f}.{tid}"
                out["calls"].append(self._call(rng, next_id["c"], linkedid, phone, received, tid))
                next_id["c"] += 1
                if rng.random() < 0.12:   # about one call in nine is given up in the queue
                    out["calls"].append(self._abandoned(rng, next_id["c"], received, tid))
                    next_id["c"] += 1
            elif row["channel"] == "sms" and phone is not None:
                out["sms_inbound"].append(f"{next_id['s']}\tSM{tid:032x}\t{phone}\t{at}\t{body}\t"
                                          f"request\t{tid}\t{REPLY_RECEIVED.format(number=number, code=code)}\n")
                next_id["s"] += 1
            out["intake_sources"].append(f"{tid}\t{tid}\t{row['channel']}\tcity:{number}\t{at}\t"
                                         f"{body}\t{_q(linkedid)}\n")
            prev = None
            for e, tail in zip(s.events, event_tails):
                when = e.at - shift
                if tail is None or hashed:   # names another ticket or a request: this copy's own
                    note, data = e.note, e.data
                    if e.action in ("approve_extension", "refuse_extension"):
                        data = dict(data, request_id=extension_id)
                    elif e.action in ("merge", "merge_in", "main_resolved") and data:
                        data, note = self._renumber(data, note, numbers, k)
                    digest = None
                    if hashed:
                        view = _HashView(e)
                        view.at, view.note, view.data = when, note, data
                        digest = audit.event_hash(number, view, prev)
                    tail = _line((e.actor.user_id, e.actor.label, e.action, e.from_state, e.to_state, e.unit_id, note,
                                  data, prev, digest))
                    prev = digest
                events.append((when, e.seq, f"{tid}\t{when.isoformat()}\t{tail}"))
        events.sort(key=lambda e: (e[0], e[1]))
        first = task.event_id
        out["ticket_events"] = [f"{first + n}\t{line}" for n, (_, _, line) in enumerate(events)]
        assert len(events) < task.count * 24 and next_id["x"] - task.transfer_id <= task.count * 6, "id block overrun"
        self._copy(out)
        # A copy counts as its story does: same day, category, unit and outcome.
        rollup.add(self.session, (stories[i].row for _, i, _, _ in made),
                   (t for _, i, _, _ in made for t in stories[i].transfers))
        self.session.commit()
        return {name: len(lines) for name, lines in out.items()}, samples

    @staticmethod
    def _tails(s: Any) -> tuple[str, list[str | None], list[str], str | None]:
        row = s.row
        ticket = _line(row[c] for c in TICKET_COLUMNS[10:])
        events: list[str | None] = []
        for e in s.events:
            if e.action in ("approve_extension", "refuse_extension", "merge", "merge_in", "main_resolved"):
                events.append(None)
            else:
                events.append(_line((e.actor.user_id, e.actor.label, e.action, e.from_state, e.to_state, e.unit_id,
                                     e.note, e.data, None, None)))
        transfers = [_line((t["unit_id"], t["received_day"], t["outcome"], t["return_reason"], t["resolved_on_time"],
                            t["routing"], "lead")) for t in s.transfers]
        x = s.extension
        extension = None if x is None else _line((x["unit_id"], x["requested_by"], x["working_days"], x["reason"],
                                                   x["status"], x["decided_by"], x["decision_note"]))
        return ticket, events, transfers, extension

    def _outcome(self, s: Any) -> str | None:
        """What routing_feedback.note_transfer and note_return would have written for the story,
        as the tail of its COPY line; None when the classifier proposed nothing or the ticket
        was never transferred."""
        from dispatch.routing_feedback import proposal_of

        row, transfers = s.row, s.transfers
        proposal = proposal_of(row["routing"])
        if proposal is None or not transfers:
            return None
        category, unit_code, automatic = proposal
        first, final = self.codes[transfers[0]["unit_id"]], self.codes[transfers[-1]["unit_id"]]
        return _line((category, unit_code, automatic, first, final, row["category"], final == unit_code,
                      row["category"] == category, first != unit_code, row["return_count"] > 0))

    def _text(self, rng: random.Random, row: dict[str, Any]) -> tuple[str, str]:
        """A title and body of the ticket's category in its place, both escaped for COPY."""
        category, place = row["category"], row["location"] or "济源"
        texts = self.texts.get(category)
        key = (category, int(rng.random() * len(texts)), place) if texts else None
        made = self.made.get(key) if key else None
        if made is None:
            title, body = texts[key[1]] if key else (row["title"], _summary(row["body"]))
            made = (_q(_DISTRICT.sub(place, _CITY.sub("济源市", title))[:200]),
                    _q(_DISTRICT.sub(place, _CITY.sub("济源市", body))))
            if key:
                self.made[key] = made
        where = f"{place}{STREETS[int(rng.random() * len(STREETS))]}{int(rng.random() * 300) + 1}号" \
                f"{PLACES[int(rng.random() * len(PLACES))]}"
        return made[0], f"市民反映：{_q(where)}。{made[1]}"

    @staticmethod
    def _renumber(data: dict[str, Any], note: str | None, numbers: dict[tuple[int, int], str],
                  k: int) -> tuple[dict[str, Any], str | None]:
        """A merge names the other ticket by number: a copy names the other ticket's copy."""
        data = dict(data)
        for key in ("into", "merged", "main"):
            old = data.get(key)
            if isinstance(old, str) and old.startswith("T"):
                i = int(old[1:])
                data[key] = numbers.get((i, k)) or numbers[(i, 0)]
                if note:
                    note = note.replace(old, data[key])
        return data, note

    def _call(self, rng: random.Random, call_id: int, linkedid: str, phone: str | None, received: dt.datetime,
              tid: int) -> str:
        wait = round(rng.expovariate(1 / 25), 1)
        talk = round(rng.uniform(60, 480), 1)
        answered = received - dt.timedelta(seconds=talk * rng.uniform(0.2, 0.9))
        entered = answered - dt.timedelta(seconds=wait)
        started = entered - dt.timedelta(seconds=rng.uniform(8, 30))
        ended = answered + dt.timedelta(seconds=talk)
        agent, name = self.agents[int(rng.random() * len(self.agents))]
        caller = "\\N" if phone is None else phone.removeprefix("+86")
        end = ended.isoformat()
        return (f"{call_id}\t{linkedid}\t{caller}\t12345\t1\thotline\t{started.isoformat()}\t{entered.isoformat()}\t"
                f"{answered.isoformat()}\t{end}\t{agent}\t{name}\t0\t16\t{wait}\t{talk}\tanswered\t{end}\t{tid}\n")

    def _abandoned(self, rng: random.Random, call_id: int, received: dt.datetime, tid: int) -> str:
        started = received - dt.timedelta(minutes=rng.uniform(5, 90))
        entered = started + dt.timedelta(seconds=rng.uniform(8, 30))
        wait = round(rng.expovariate(1 / 40), 1)
        ended = entered + dt.timedelta(seconds=wait)
        caller = f"1{'3578'[int(rng.random() * 4)]}{int(rng.random() * 4_000_000):09d}"
        end = ended.isoformat()
        return (f"{call_id}\t{started.timestamp():.0f}.a{tid}\t{caller}\t12345\t1\thotline\t{started.isoformat()}\t"
                f"{entered.isoformat()}\t\\N\t{end}\t\\N\t\\N\t0\t16\t{wait}\t\\N\tabandoned\t{end}\t\\N\n")

    def _copy(self, out: dict[str, list[str]]) -> None:
        connection = self.session.connection().connection.dbapi_connection
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            for table, lines in out.items():
                if not lines:
                    continue
                with cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                    for start in range(0, len(lines), 20_000):
                        copy.write("".join(lines[start:start + 20_000]))


def _summary(body: str) -> str:
    """The first sentences of a citizen's text, up to BODY_CHARS characters."""
    body = " ".join(body.split())
    if len(body) <= BODY_CHARS:
        return body
    cut = body.rfind("。", 0, BODY_CHARS)
    return body[:cut + 1] if cut > BODY_CHARS // 3 else body[:BODY_CHARS]


def _arrivals(rng: random.Random, start: dt.datetime, count: int, now: dt.datetime,
              hour_weights: tuple[float, ...]) -> list[dt.datetime]:
    """`count` times on the day that begins at `start`, more by day than by night, before now."""
    hours = [h for h in range(24) if start + dt.timedelta(hours=h) < now]
    weights = [hour_weights[h] for h in hours]
    times = []
    for hour in rng.choices(hours, weights, k=count):
        at = start + dt.timedelta(hours=hour, seconds=rng.randrange(3600))
        times.append(at if at < now else now - dt.timedelta(seconds=rng.randrange(1, 600)))
    return times


_worker: _Day | None = None


def _init(url: str, now: dt.datetime, seed: int, hash_chain: bool) -> None:
    global _worker
    _worker = _Day(url, now, seed, hash_chain)


def _close() -> None:
    global _worker
    if _worker is not None:
        _worker.session.close()
        _worker.engine.dispose()
        _worker.services.close()
        _worker = None


def _run(task: DayTask) -> tuple[DayTask, dict[str, int], list[tuple[str, str, str | None]]]:
    assert _worker is not None
    counts, samples = _worker.run(task)
    return task, counts, samples


# -- the whole load --

def load(url: str, tickets: int, *, per_day: int = 66_000, streams: int = 2, seed: int = 12345,
         hash_chain: bool = False, index_memory: str = "1GB", fresh: bool = True,
         without: tuple[str, ...] = (), say: Say = print) -> Loaded:
    """Rebuild the database's tables (unless not `fresh`: then they are there, migrated),
    seed the demo city, then load `tickets` of history. `streams` 0 writes from this
    process (for tests), N from N processes at once. The indexes named in `without` are
    dropped and left unbuilt (their statements are printed, to build them later)."""
    from sqlalchemy.orm import Session

    from dispatch import db
    from dispatch.clock import utcnow
    from dispatch.demo import seed as seed_demo
    from web.config import Settings
    from web.services import Services

    began = time.monotonic()
    if fresh:
        db.recreate_schema(url)
    services = Services.build(Settings(database_url=url))
    try:
        services.run_sync(lambda s: seed_demo(s, services.city, services.rules))
    finally:
        services.close()
    now = utcnow().replace(microsecond=0)
    engine = db.make_engine(url)
    with Session(engine) as session:
        tasks = plan(session, tickets, per_day, now)
    rebuild = drop_indexes(engine)
    unknown = set(without) - {name for name, _ in rebuild}
    if unknown:
        raise ValueError(f"no such index on the loaded tables: {', '.join(sorted(unknown))}")
    say(f"schema and demo city {time.monotonic() - began:.0f} s; {len(tasks)} days, {tickets:,} tickets, "
        f"{streams} COPY streams; {len(rebuild)} indexes and constraints dropped until the end")
    loaded = Loaded()
    started = time.monotonic()
    with _days(tasks, streams, (url, now, seed, hash_chain)) as done:
        for task, counts, samples in done:
            loaded.tickets += task.count
            loaded.samples.extend(samples)
            for name, n in counts.items():
                loaded.counts[name] += n
                loaded.rows += n
            elapsed = time.monotonic() - started
            rate = loaded.tickets / elapsed
            say(f"  {task.day}  {loaded.tickets:>11,} / {tickets:,} tickets  {loaded.rows:>12,} rows  "
                f"{loaded.rows / elapsed:9,.0f} rows/s  {rate:7,.0f} tickets/s  "
                f"ETA {(tickets - loaded.tickets) / rate:5.0f} s")
    say(f"COPY done in {time.monotonic() - started:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in loaded.counts.items()))
    with engine.begin() as connection:
        from sqlalchemy import text
        connection.execute(text("INSERT INTO ticket_sequences (day, last) VALUES (:day, :last) "
                                "ON CONFLICT (day) DO UPDATE SET last = excluded.last"),
                           [{"day": t.day.strftime("%Y%m%d"), "last": t.first_seq + t.count - 1} for t in tasks])
        for table in NUMBERED:
            connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                       f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
    for name, statement in rebuild:
        if name in without:
            say(f"  index {name} not built; to build it: {statement}")
    build_indexes(engine, [r for r in rebuild if r[0] not in without], max(1, streams), index_memory, say)
    from dispatch import totals_sql   # the totals of calls, channels, deadlines and routing, from the rows
    totals_sql.refill_database(engine)
    began_vacuum = time.monotonic()
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in (*LOADED, "ticket_rollup", "transfer_rollup", "ticket_sequences"):
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
    say(f"VACUUM ANALYZE {time.monotonic() - began_vacuum:.0f} s; whole load {time.monotonic() - began:.0f} s")
    engine.dispose()
    return loaded


@contextlib.contextmanager
def _days(tasks: list[DayTask], streams: int, setup: tuple[Any, ...]) -> Iterator[Iterator[Any]]:
    """Each day's rows written, in this process or in `streams` at once (spawned: the parent
    holds database connections a fork would share)."""
    if streams == 0:
        _init(*setup)
        try:
            yield map(_run, tasks)
        finally:
            _close()
        return
    with multiprocessing.get_context("spawn").Pool(streams, initializer=_init, initargs=setup) as pool:
        yield pool.imap_unordered(_run, tasks)


def drop_indexes(engine: Any) -> list[tuple[str, str]]:
    """Drop the loaded tables' secondary indexes and unique constraints; returns (name,
    statement) to build each again, the largest (GIN) first."""
    rows = []
    with engine.begin() as connection:
        found = connection.exec_driver_sql(
            "SELECT c.relname, t.relname, pg_get_indexdef(i.indexrelid), con.conname, pg_get_constraintdef(con.oid), "
            "am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_am am ON am.oid = c.relam "
            "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('u', 'x') "
            "WHERE t.relnamespace = 'public'::regnamespace AND NOT i.indisprimary AND t.relname = ANY(%(tables)s)",
            {"tables": list(LOADED)}).all()
        for index, table, definition, constraint, constraint_def, method in found:
            if constraint:
                connection.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
                rows.append((method, index, f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {constraint_def}"))
            else:
                connection.exec_driver_sql(f"DROP INDEX {index}")
                rows.append((method, index, definition))
    rows.sort(key=lambda r: (r[0] == "gin", r[1]))   # the routes need the B-trees; search can wait
    return [(name, statement) for _, name, statement in rows]


def build_indexes(engine: Any, statements: list[tuple[str, str]], streams: int, memory: str, say: Say) -> None:
    queue = list(statements)
    began = time.monotonic()

    def worker() -> None:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql(f"SET maintenance_work_mem = '{memory}'")
            if streams > 1:
                connection.exec_driver_sql("SET max_parallel_maintenance_workers = 0")
            while queue:
                try:
                    name, statement = queue.pop(0)
                except IndexError:
                    return
                t = time.monotonic()
                connection.exec_driver_sql(statement)
                say(f"  index {name:<45} {time.monotonic() - t:7.1f} s")

    with concurrent.futures.ThreadPoolExecutor(streams) as pool:
        for future in [pool.submit(worker) for _ in range(streams)]:
            future.result()
    say(f"indexes built in {time.monotonic() - began:.0f} s")
