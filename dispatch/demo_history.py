"""Weeks of believable history for the demo city, so that its figures and charts show
something: a few hundred tickets a day whose texts are real labelled citizen messages
(classifier/data, see its SOURCE.md), each taken through the lifecycle as staff would take
it: answered at intake, or transferred, accepted or returned, given more time, chased when
overdue, resolved, followed up and rated (an unsatisfied rating reopens it), by units that
are faster or slower than others. What has not happened yet by now stays open.

Written in bulk, because tens of thousands of tickets through the ORM take minutes, but row
for row what dispatch/lifecycle.py writes: the same events in the same order with the same
hash chain (dispatch/audit.py), the tickets' summaries, transfers, extension requests and
intake sources, and the running totals behind the figures (dispatch/rollup.py); and the calls
behind the phone tickets, with the calls around them (dispatch/demo_calls.py), and their
totals (dispatch/call_totals.py). History sends no texts: it writes no outbox rows. The same
seed gives the same history.
"""
from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from classifier.dataset import DATA_DIR, read_examples
from classifier.selective import DEFAULT_MIN_CONFIDENCE
from dispatch import audit, call_totals, catalogue, demo_calls, rollup, routing_feedback
from dispatch.actors import Actor
from dispatch.clock import CHINA, local_date, utcnow
from dispatch.follow_up import AUTO_CLOSE_ACTOR, FollowUpPolicy
from dispatch.intake import IntakeRules
from dispatch.models import (Call, Callback, ExtensionRequest, IntakeSource, RoutingOutcome, Ticket, TicketEvent,
                             TicketSequence, Transfer, Unit)
from dispatch.routing import Gazetteer
from dispatch.staff import extension_of
from dispatch.states import State
from dispatch.townships import gazetteer_places, township_of
from dispatch.units import City
from dispatch.vocabulary import (DEMO_REQUEST_TYPE_CUES, Channel, CloseReason, EmergencyService, ExtensionStatus,
                                 Rating, RequestType, TransferOutcome, Urgency)

Progress = Callable[[str, int, int], None]

# Shares seen at city hotlines: most contacts are calls; complaints and questions dominate.
CHANNELS = ((Channel.PHONE, 0.64), (Channel.WEB, 0.22), (Channel.SMS, 0.14))
REQUEST_TYPES = ((RequestType.COMPLAINT, 0.38), (RequestType.CONSULTATION, 0.24), (RequestType.HELP, 0.17),
                 (RequestType.REPORT, 0.08), (RequestType.SUGGESTION, 0.09), (RequestType.PRAISE, 0.04))
# Where callers live: the five urban subdistricts carry most of the city.
PLACE_WEIGHTS = {"qinyuan": 14, "jishui": 13, "beihai": 12, "tiantan": 11, "yuquan": 9, "kejing": 5,
                 "wulongkou": 4, "lilin": 4, "zhicheng": 5, "chengliu": 4, "potou": 3, "sili": 3,
                 "wangwu": 3, "shaoyuan": 2, "xiaye": 2, "dayu": 2}
# China-time hour of day -> relative calls (the hotline answers round the clock).
HOUR_WEIGHTS = (1, 0.5, 0.3, 0.3, 0.4, 0.8, 2, 5, 10, 12, 12, 10, 6, 7, 10, 11, 10, 9, 6, 5, 5, 4, 3, 2)
# How long a unit takes, against the average (1.0); units not named are average.
UNIT_PACE = {"human-resources": 0.6, "education": 0.7, "jishui": 0.7, "ecology-environment": 0.9,
             "health": 0.8, "commerce": 1.1, "housing": 1.35, "natural-resources": 1.5, "transport": 1.25,
             "urban-management": 1.2, "qinyuan": 1.1, "beihai": 1.45, "wangwu": 1.6}
# Where a returned ticket goes next (退单 -> 重新派单), per category.
SECOND_UNITS = {"城乡建设": ("urban-management", "natural-resources"), "环境保护": ("urban-management", "water"),
                "交通运输": ("urban-management", "public-security"), "教育文体": ("culture-tourism",),
                "劳动和社会保障": ("civil-affairs",), "商贸旅游": ("market-regulation", "culture-tourism"),
                "卫生计生": ("market-regulation", "civil-affairs")}


def _kind_of(title: str, drawn: RequestType) -> RequestType:
    """The type a title states; else the drawn one, but never 表扬, 举报 or 建议 for a title that
    does not say so (a complaint shown as praise reads as a broken demo): 投诉 then."""
    for kind, words in DEMO_REQUEST_TYPE_CUES:
        if any(word in title for word in words):
            return kind
    return RequestType.COMPLAINT if drawn in (RequestType.PRAISE, RequestType.REPORT, RequestType.SUGGESTION) else drawn

RETURN_REASONS = ("经核实，该事项不属于我单位职责范围，请重新派单。",
                  "诉求涉及属地管理，应由所在街道（镇）办理。",
                  "该事项已移交相关主管部门，非我单位管辖。")
EXTENSION_REASONS = ("需协调多个部门现场核查，申请延期。", "涉及历史遗留问题，需进一步调查取证。",
                     "施工整改需要时间，申请延长办理时限。")
ESCALATION_NOTE = "工单已超期，请尽快办理并答复市民。"
REPLIES = ("已联系市民并现场核实，问题已处理完毕。", "经核查情况属实，已责令相关责任方限期整改。",
           "已向市民详细解释相关政策，市民表示理解。", "已安排工作人员上门处理，并将持续跟踪。",
           "已协调相关单位解决，市民对处理结果知情。")
ANSWERS = ("已按相关政策当场解答，市民表示清楚。", "已告知办理地点、所需材料和办理时间。",
           "已告知政策依据及咨询电话，市民无其他诉求。")
INVALID_REASONS = ("无声电话", "骚扰电话", "来电人未反映具体诉求", "测试来电")
RATING_NOTES = {Rating.SATISFIED: ("处理及时，态度很好。", None, None), Rating.PARTLY: ("问题基本解决。", None),
                Rating.UNSATISFIED: ("问题没有真正解决。", "答复敷衍，没有到现场。")}

OPENS, CLOSES = dt.time(8, 30), dt.time(17, 30)
_FINISHED = {State.ANSWERED.value, State.CLOSED.value, State.INVALID.value, State.MERGED.value,
             State.HANDED_OVER.value}


@dataclass(frozen=True)
class HistorySize:
    """How much history: `days` back from now, about `per_day` tickets on a working day."""

    days: int = 90
    per_day: int = 300
    seed: int = 12345


@dataclass(frozen=True)
class HistorySummary:
    tickets: int
    events: int
    days: int
    calls: int = 0


@dataclass
class _Event:
    seq: int
    ticket: _Story
    at: dt.datetime
    actor: Actor
    action: str
    from_state: str | None
    to_state: str
    unit_id: int | None = None
    note: str | None = None
    data: dict[str, Any] | None = None
    unit_after: int | None = None   # the ticket's unit once this event is done (for merges)


@dataclass
class _Story:
    """One ticket as it goes: its row, its events, its transfers."""

    index: int
    row: dict[str, Any]
    events: list[_Event] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    extension: dict[str, Any] | None = None
    merged_into: _Story | None = None
    outcome: dict[str, Any] | None = None   # what became of the proposal (dispatch/routing_feedback.py)

    @property
    def state(self) -> str:
        return self.row["state"]


class _Writer:
    """What the lifecycle does to a ticket, step by step, kept in memory."""

    def __init__(self) -> None:
        self.seq = 0

    def event(self, story: _Story, at: dt.datetime, actor: Actor, action: str, *, to_state: str | None = None,
              note: str | None = None, unit_id: int | None = None, data: dict[str, Any] | None = None) -> _Event:
        from_state = story.state if story.events else None
        if to_state is not None:
            story.row["state"] = to_state
        self.seq += 1
        event = _Event(self.seq, story, at, actor, action, from_state, story.state, unit_id, note, data,
                       unit_after=story.row["unit_id"])
        story.events.append(event)
        if len(story.events) > 1:
            story.row["version"] += 1  # about what the ORM's version counter would say
        return event


class _HashView:
    """An event as audit.event_hash reads it."""

    __slots__ = ("at", "actor_id", "actor", "action", "from_state", "to_state", "unit_id", "note", "data")

    def __init__(self, e: _Event) -> None:
        self.at, self.actor_id, self.actor, self.action = e.at, e.actor.user_id, e.actor.label, e.action
        self.from_state, self.to_state, self.unit_id, self.note, self.data = (
            e.from_state, e.to_state, e.unit_id, e.note, e.data)


class _Choice:
    """A weighted draw, its cumulative weights worked out once."""

    def __init__(self, weighted: tuple[tuple[Any, float], ...] | list[tuple[Any, float]]) -> None:
        self.values = [v for v, _ in weighted]
        self.cumulative = list(itertools.accumulate(w for _, w in weighted))

    def __call__(self, rng: random.Random) -> Any:
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


def _examples(rng: random.Random) -> list[tuple[str, str, str]]:
    """(title, body, category) of the shipped labelled messages, shuffled; very long texts
    (a few thousand characters) left out, as an operator would summarise them."""
    rows = [(e.title, e.body, e.label) for e in read_examples(DATA_DIR / "dev.csv")
            if e.title and e.body and len(e.body) <= 1500]
    rng.shuffle(rows)
    return rows


class _Generator:
    def __init__(self, session: Session, city: City, rules: IntakeRules, size: HistorySize, now: dt.datetime,
                 actors: dict[str, Actor]) -> None:
        self.session, self.city, self.rules, self.size, self.now = session, city, rules, size, now
        rules.policy.calendar.sync(session)
        self.rng = random.Random(size.seed)
        self.w = _Writer()
        self.units = {u.code: u for u in session.scalars(select(Unit))}
        self.catalogue = catalogue.load(session)   # each ticket's entry, for the figures per level
        self.operator = actors["operator"]
        self.supervisor = actors["supervisor"]
        # Unit staff with a demo account act under it; other units under their own name.
        self.unit_actor = {code: actors.get(code) or Actor(label=unit.name) for code, unit in self.units.items()}
        # Another city's file works too: its own places and categories, evenly weighted.
        self.place = _Choice([((code, names[0]), PLACE_WEIGHTS.get(code, 2)) for code, names in city.gazetteer.items()
                              if names and code in self.units] or [((None, None), 1)])
        self.channel, self.kind = _Choice(CHANNELS), _Choice(REQUEST_TYPES)
        self.places = gazetteer_places(Gazetteer(city.gazetteer))   # as intake's router finds them
        self.examples = [e for e in _examples(self.rng) if self.units.get(city.categories.get(e[2], ""))]
        self.follow_up = FollowUpPolicy()
        self.recent: dict[tuple[str, str], list[_Story]] = {}
        self.deadlines: dict[tuple[dt.date, RequestType, Urgency], dt.datetime] = {}
        self.entries: dict[tuple[str, str], int | None] = {}

    def deadline(self, received: dt.datetime, kind: RequestType, urgency: Urgency) -> dt.datetime:
        """policy.deadline(), which depends only on the China day received: worked out once a day."""
        key = (local_date(received), kind, urgency)
        found = self.deadlines.get(key)
        if found is None:
            found = self.deadlines[key] = self.rules.policy.deadline(received, kind, urgency)
        return found

    def office(self, t: dt.datetime) -> dt.datetime:
        """Units and supervisors act in office hours (8:30-17:30 China time): later is the
        next morning. The hotline's own operators work round the clock."""
        local = t.astimezone(CHINA)
        if OPENS <= local.time() < CLOSES:
            return t
        day = local.date() if local.time() < OPENS else local.date() + dt.timedelta(days=1)
        morning = dt.datetime.combine(day, OPENS, tzinfo=CHINA) + dt.timedelta(minutes=self.rng.uniform(0, 90))
        return morning.astimezone(dt.timezone.utc)

    # -- arrivals --

    def arrivals(self) -> list[dt.datetime]:
        """Receipt times, oldest first: fewer on weekends and holidays, more by day than by night."""
        rng, today = self.rng, local_date(self.now)
        times = []
        for back in range(self.size.days - 1, -1, -1):
            day = today - dt.timedelta(days=back)
            base = self.size.per_day * (1.0 if self.rules.policy.calendar.is_workday(day) else 0.55)
            count = max(0, round(rng.gauss(base, base * 0.12)))
            start = dt.datetime.combine(day, dt.time(0), tzinfo=CHINA)
            hours = rng.choices(range(24), HOUR_WEIGHTS, k=count)
            for hour in hours:
                at = (start + dt.timedelta(hours=hour, seconds=rng.randrange(3600))).astimezone(dt.timezone.utc)
                if at < self.now:
                    times.append(at)
        times.sort()
        return times

    def numbers(self, times: list[dt.datetime]) -> list[str]:
        """Day + sequence, continuing the days' counters (and moving them on)."""
        stamps: dict[dt.date, str] = {}
        days = [stamps.get(d) or stamps.setdefault(d, d.strftime("%Y%m%d")) for d in map(local_date, times)]
        last = dict(self.session.execute(select(TicketSequence.day, TicketSequence.last)
                                         .where(TicketSequence.day.in_(sorted(set(stamps.values()))))).all())
        numbers = []
        for day in days:
            last[day] = last.get(day, 0) + 1
            numbers.append(f"{day}-{last[day]:04d}")
        dialect = self.session.connection().dialect.name
        upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(TicketSequence.__table__)
        upsert = upsert.on_conflict_do_update(index_elements=["day"], set_={"last": upsert.excluded["last"]})
        self.session.execute(upsert, [{"day": d, "last": n} for d, n in last.items()])
        return numbers

    # -- one ticket --

    def story(self, index: int, number: str, received: dt.datetime) -> _Story:
        rng = self.rng
        title, body, category = self.examples[index % len(self.examples)]
        channel = self.channel(rng)
        kind = _kind_of(title, self.kind(rng))
        urgency = Urgency.URGENT if rng.random() < 0.05 else Urgency.NORMAL
        place_code, place = self.place(rng)
        phone = None if channel is Channel.WEB and rng.random() < 0.1 else f"+861{rng.choice('3578')}{rng.randrange(10**9):09d}"
        routing = self.proposal(category, place_code, place)
        row: dict[str, Any] = {
            "number": number, "query_code": f"{secrets.randbelow(1_000_000):06d}", "channel": channel.value,
            "request_type": kind.value, "urgency": urgency.value, "title": title[:200], "body": body,
            "phone": phone, "name": None, "location": place, "confidential": rng.random() < 0.02,
            "township": township_of(self.places, place, title[:200], body),
            "category": category, "unit_id": None, "state": State.RECEIVED.value, "received_at": received,
            "deadline": self.deadline(received, kind, urgency), "merged_into_id": None, "reply": None,
            "routing": routing, "transfer_count": 0, "accepted_transfer_count": 0, "return_count": 0,
            "resolved_at": None, "resolved_on_time": None, "rating": None, "rating_channel": None,
            "follow_up_attempts": 0, "closed_at": None, "close_reason": None, "handover_to": None,
            "open_dispute_id": None, "version": 1, "catalogue_entry_id": self.entry_id(f"{title}。{body}", category),
        }
        story = _Story(index, row)
        taker = self.operator if channel is Channel.PHONE else Actor.citizen(channel.value)
        self.w.event(story, received, taker, "receive", to_state=State.RECEIVED.value,
                     data={"channel": channel.value})
        main = self.main_of(story)
        if main is None or not self.merge(story, main):
            self.handle(story, kind, received)
        return story

    def entry_id(self, text: str, category: str) -> int | None:
        """Worked out once per text: the examples repeat once there are more tickets than texts."""
        key = (text, category)
        if key not in self.entries:
            match = self.catalogue.match(text, category)
            self.entries[key] = match.item.entry_id if match is not None and match.item.level1 == category else None
        return self.entries[key]

    def proposal(self, category: str, place_code: str | None, place: str | None) -> dict[str, Any] | None:
        """What routing would have proposed: the category's department, or for a local
        category the township named; below the routing threshold (about one in six, as the
        shipped classifier on its report part) manual triage with the suggestions."""
        rng = self.rng
        unsure = rng.random() < 0.16
        probability = round(rng.uniform(0.40, DEFAULT_MIN_CONFIDENCE) if unsure
                            else rng.uniform(DEFAULT_MIN_CONFIDENCE, 0.995), 4)
        others = [c for c in self.city.categories if c != category]
        rng.shuffle(others)
        local = place_code is not None and category in self.city.local_categories and rng.random() < 0.55
        top_unit = place_code if local else self.city.categories[category]
        top = {"unit_code": top_unit, "category": category, "probability": probability,
               "source": "gazetteer" if local else "model",
               "detail": f"模型：{category} {probability:.0%}" + (f"；属地：{place}" if local else "")}
        rest = 1 - probability
        suggestions = [top] + [{"unit_code": self.city.categories[c], "category": c,
                                "probability": round(rest * share, 4), "source": "model",
                                "detail": f"模型：{c} {rest * share:.0%}"} for c, share in zip(others[:2], (0.6, 0.3))]
        if unsure:
            return {"unit_code": None, "source": "manual", "category": category, "probability": probability,
                    "reason": f"置信度 {probability:.0%} 低于 {DEFAULT_MIN_CONFIDENCE:.0%}，请人工分派",
                    "suggestions": suggestions, "places": [place] if local else [], "manual_triage": True}
        return {"unit_code": top_unit, "source": top["source"], "reason": top["detail"], "category": category,
                "probability": probability, "suggestions": suggestions, "places": [place] if local else [],
                "manual_triage": False}

    def handle(self, story: _Story, kind: RequestType, t: dt.datetime) -> None:
        rng, row = self.rng, story.row
        phone = row["channel"] == Channel.PHONE.value
        roll = rng.random()
        if phone and roll < 0.02:
            self.invalid(story, t + dt.timedelta(minutes=rng.uniform(1, 5)))
            return
        if phone and roll < 0.024:
            self.handover(story, t + dt.timedelta(minutes=rng.uniform(1, 4)))
            return
        if rng.random() < (0.7 if kind is RequestType.CONSULTATION else 0.04):
            at = t + (dt.timedelta(minutes=rng.uniform(3, 15)) if phone else dt.timedelta(hours=rng.uniform(0.3, 6)))
            if at < self.now:
                row["reply"], row["resolved_at"] = rng.choice(ANSWERS), at
                self.w.event(story, at, self.operator, "answer", to_state=State.ANSWERED.value, note=row["reply"])
            return
        code = self.first_choice(story)
        t += dt.timedelta(minutes=rng.uniform(5, 40)) if phone else dt.timedelta(hours=rng.uniform(0.2, 2))
        if not self.transfer(story, code, t):
            return
        pace = UNIT_PACE.get(code, 1.0)
        t = self.office(t + dt.timedelta(hours=rng.uniform(0.3, 20) * pace))
        if rng.random() < 0.06 * pace:
            if not self.return_ticket(story, t):
                return
            alternatives = [c for c in SECOND_UNITS.get(row["category"], ()) if c in self.units]
            code = rng.choice(alternatives) if alternatives else code
            pace = UNIT_PACE.get(code, 1.0)
            t += dt.timedelta(hours=rng.uniform(0.5, 6))
            if not self.transfer(story, code, t):
                return
            t = self.office(t + dt.timedelta(hours=rng.uniform(0.3, 12) * pace))
        if not self.accept(story, code, t):
            return
        self.work(story, code, pace, t)

    def first_choice(self, story: _Story) -> str:
        """The unit the operator sends a ticket to first: the proposal, or in triage the first
        suggestion; now and then the second one instead (a correction: the ticket takes its
        category), more often in triage, where the classifier was unsure."""
        row, routing = story.row, story.row["routing"]
        suggestions = routing["suggestions"]
        if len(suggestions) > 1 and self.rng.random() < (0.25 if routing["unit_code"] is None else 0.03):
            row["category"] = suggestions[1]["category"]
            row["catalogue_entry_id"] = self.entry_id(f"{row['title']}。{row['body']}", row["category"])
            return suggestions[1]["unit_code"]
        return routing["unit_code"] or suggestions[0]["unit_code"]

    def work(self, story: _Story, code: str, pace: float, accepted: dt.datetime, *, reopened: bool = False) -> None:
        """From accepted to resolved, with an extension asked for and an escalation when late."""
        rng, row = self.rng, story.row
        # Taken after its deadline (transferred late, returned and sent on): the work still
        # takes time after the taking, never before it.
        span = max(row["deadline"] - accepted, dt.timedelta(0))
        if reopened:
            took = dt.timedelta(days=rng.uniform(0.5, 4) * pace)
        else:
            # Most finish well within the limit; a few, more of them at slow units, get stuck.
            stuck = rng.random() < 0.05 * pace * pace
            share = rng.uniform(1.05, 2.5) if stuck else rng.betavariate(2, 3) * pace
            took = span * share + dt.timedelta(hours=1)
        resolve_at = self.office(accepted + took)
        if not reopened and rng.random() < 0.05 * pace:
            asked = self.office(accepted + span * rng.uniform(0.3, 0.7))
            if asked >= self.now or asked >= resolve_at:
                pass
            else:
                approve = rng.random() < 0.8
                decided = self.office(asked + dt.timedelta(hours=rng.uniform(2, 26)))
                self.extension(story, code, asked, decided if decided < min(resolve_at, self.now) else None, approve)
        deadline = row["deadline"]
        chase = self.office(max(deadline, accepted) + dt.timedelta(hours=rng.uniform(4, 30)))
        if chase < min(resolve_at, self.now) and rng.random() < 0.85:
            self.w.event(story, chase, self.supervisor, "escalate", note=ESCALATION_NOTE, unit_id=row["unit_id"])
        if resolve_at >= self.now:
            return
        on_time = resolve_at <= row["deadline"]
        row["reply"], row["resolved_at"], row["resolved_on_time"] = rng.choice(REPLIES), resolve_at, on_time
        current = story.transfers[-1]
        current["resolved_at"], current["resolved_on_time"] = resolve_at, on_time
        row["follow_up_attempts"] = 0
        self.w.event(story, resolve_at, self.unit_actor[code], "resolve", to_state=State.RESOLVED.value,
                     note=row["reply"], unit_id=row["unit_id"], data={"on_time": on_time})
        self.after_resolution(story, code, pace, resolve_at, second=reopened)

    def after_resolution(self, story: _Story, code: str, pace: float, resolved: dt.datetime, *, second: bool) -> None:
        """回访: a rating by web or text, or the operator's calls; unrated ones close after a week."""
        rng, row = self.rng, story.row
        close_by = resolved + self.follow_up.close_after + dt.timedelta(minutes=rng.uniform(1, 10))
        t = resolved
        if rng.random() < 0.2 and row["phone"] is not None or row["channel"] == Channel.WEB.value and rng.random() < 0.15:
            actor = Actor.citizen(Channel.SMS.value if row["phone"] and rng.random() < 0.5 else Channel.WEB.value)
            t += dt.timedelta(hours=rng.uniform(0.2, 48))
            self.rate(story, code, pace, t, actor, second=second)
            return
        for attempt in range(1, self.follow_up.max_attempts + 1):
            t += dt.timedelta(hours=rng.uniform(4, 40))
            if t >= close_by or row["phone"] is None or rng.random() < 0.05:
                break
            if rng.random() < 0.82:
                self.rate(story, code, pace, t, self.operator, second=second)
                return
            if t >= self.now:
                return
            row["follow_up_attempts"] = attempt
            self.w.event(story, t, self.operator, "follow_up", unit_id=row["unit_id"],
                         data={"outcome": "unreachable", "attempt": attempt})
            if attempt >= self.follow_up.max_attempts:
                row["closed_at"], row["close_reason"] = t, CloseReason.UNREACHABLE.value
                self.w.event(story, t, self.operator, "close", to_state=State.CLOSED.value, note=f"回访{attempt}次未接通",
                             data={"not_rated": True, "reason": CloseReason.UNREACHABLE.value})
                return
        if close_by < self.now:
            row["closed_at"], row["close_reason"] = close_by, CloseReason.NOT_RATED.value
            self.w.event(story, close_by, AUTO_CLOSE_ACTOR, "close", to_state=State.CLOSED.value,
                         note=f"办结{self.follow_up.close_after.days}天内未评价，自动关闭",
                         data={"not_rated": True, "reason": CloseReason.NOT_RATED.value})

    def rate(self, story: _Story, code: str, pace: float, at: dt.datetime, actor: Actor, *, second: bool) -> None:
        rng, row = self.rng, story.row
        if at >= self.now:
            return
        # Slower units leave more citizens unsatisfied; a second resolution rarely is.
        unsatisfied = 0.15 if second else 0.06 * pace
        roll = rng.random()
        rating = (Rating.UNSATISFIED if roll < unsatisfied else
                  Rating.PARTLY if roll < unsatisfied + 0.12 + 0.05 * pace else Rating.SATISFIED)
        channel = actor.label.split(":", 1)[1] if actor.label.startswith("citizen:") else Channel.PHONE.value
        row["rating"], row["rating_channel"] = rating.value, channel
        note = rng.choice(RATING_NOTES[rating])
        data = {"rating": rating.value, "channel": channel}
        if rating is Rating.UNSATISFIED:
            row["resolved_at"] = row["resolved_on_time"] = None
            current = story.transfers[-1]
            current["resolved_at"] = current["resolved_on_time"] = None
            # 重办 gets a new handling period, as lifecycle.rate gives it (deadline_classes.on_reopen).
            new = self.deadline(at, RequestType(row["request_type"]), Urgency(row["urgency"]))
            if new > row["deadline"]:
                data["deadline"] = {"deadline_class": None, "old_deadline": row["deadline"].isoformat(),
                                    "new_deadline": new.isoformat()}
                row["deadline"] = new
            self.w.event(story, at, actor, "reopen", to_state=State.REOPENED.value, note=note, unit_id=row["unit_id"],
                         data=data)
            back = self.office(at + dt.timedelta(hours=rng.uniform(1, 20)))
            if back >= self.now:
                return
            self.w.event(story, back, self.unit_actor[code], "accept", to_state=State.IN_PROGRESS.value,
                         unit_id=row["unit_id"])
            self.work(story, code, pace, back, reopened=True)
            return
        row["closed_at"], row["close_reason"] = at, CloseReason.RATED.value
        self.w.event(story, at, actor, "close", to_state=State.CLOSED.value, note=note, data=data)

    # -- the lifecycle's steps --

    def transfer(self, story: _Story, code: str, at: dt.datetime) -> bool:
        if at >= self.now:
            return False
        row, unit = story.row, self.units[code]
        proposed = row["routing"] or {}
        routing = ({k: proposed.get(k) for k in ("source", "reason", "category", "probability")}
                   if proposed.get("unit_code") == code else None)
        row["unit_id"] = unit.id
        row["transfer_count"] += 1
        self.w.event(story, at, self.operator, "transfer", to_state=State.TRANSFERRED.value, unit_id=unit.id,
                     data={"routing": routing} if routing else None)
        story.transfers.append({"unit_id": unit.id, "transferred_at": at, "received_day": local_date(row["received_at"]),
                                "outcome": TransferOutcome.PENDING.value, "responded_at": None, "return_reason": None,
                                "resolved_at": None, "resolved_on_time": None, "routing": routing})
        self.note_outcome(story, code)
        return True

    @staticmethod
    def note_outcome(story: _Story, code: str) -> None:
        """routing_feedback.note_transfer, on the story's row."""
        proposal = routing_feedback.proposal_of(story.row["routing"])
        if proposal is None:
            return
        if story.outcome is None:
            story.outcome = {"received_at": story.row["received_at"], **routing_feedback.first_columns(proposal, code)}
        story.outcome.update(routing_feedback.final_columns(story.outcome, code, story.row["category"]))

    def accept(self, story: _Story, code: str, at: dt.datetime) -> bool:
        if at >= self.now:
            return False
        row, current = story.row, story.transfers[-1]
        current["outcome"], current["responded_at"] = TransferOutcome.ACCEPTED.value, at
        row["accepted_transfer_count"] += 1
        self.w.event(story, at, self.unit_actor[code], "accept", to_state=State.IN_PROGRESS.value, unit_id=row["unit_id"])
        return True

    def return_ticket(self, story: _Story, at: dt.datetime) -> bool:
        if at >= self.now:
            return False
        row, current = story.row, story.transfers[-1]
        reason = self.rng.choice(RETURN_REASONS)
        unit_id = row["unit_id"]
        code = next(c for c, u in self.units.items() if u.id == unit_id)
        current.update(outcome=TransferOutcome.RETURNED.value, responded_at=at, return_reason=reason)
        row["return_count"] += 1
        row["unit_id"] = None
        if story.outcome is not None:
            story.outcome["returned"] = True
        self.w.event(story, at, self.unit_actor[code], "return", to_state=State.RETURNED.value, note=reason,
                     unit_id=unit_id)
        return True

    def extension(self, story: _Story, code: str, asked: dt.datetime, decided: dt.datetime | None,
                  approve: bool) -> None:
        rng, row = self.rng, story.row
        days = rng.choice((3, 5, 10))
        actor = self.unit_actor[code]
        reason = rng.choice(EXTENSION_REASONS)
        story.extension = {"unit_id": row["unit_id"], "requested_by": actor.user_id, "requested_at": asked,
                           "working_days": days, "reason": reason, "status": ExtensionStatus.PENDING.value,
                           "decided_by": None, "decided_at": None, "decision_note": None}
        self.w.event(story, asked, actor, "request_extension", note=reason, unit_id=row["unit_id"],
                     data={"working_days": days})
        if decided is None:
            return
        story.extension.update(status=(ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED).value,
                               decided_by=self.supervisor.user_id, decided_at=decided)
        data: dict[str, Any] = {"request_id": None, "approved": approve}  # the id once the row is written
        if approve:
            old = row["deadline"]
            row["deadline"] = self.rules.policy.extend(old, days)
            data.update(old_deadline=old.isoformat(), new_deadline=row["deadline"].isoformat())
        self.w.event(story, decided, self.supervisor, "approve_extension" if approve else "refuse_extension",
                     unit_id=row["unit_id"], data=data)

    def invalid(self, story: _Story, at: dt.datetime) -> None:
        if at < self.now:
            self.w.event(story, at, self.operator, "invalidate", to_state=State.INVALID.value,
                         note=self.rng.choice(INVALID_REASONS))

    def handover(self, story: _Story, at: dt.datetime) -> None:
        if at >= self.now:
            return
        to = self.rng.choice((EmergencyService.POLICE, EmergencyService.POLICE, EmergencyService.AMBULANCE,
                              EmergencyService.FIRE, EmergencyService.TRAFFIC))
        story.row.update(handover_to=to.value, closed_at=at)
        self.w.event(story, at, self.operator, "handover", to_state=State.HANDED_OVER.value, data={"to": to.value})

    # -- duplicates --

    def main_of(self, story: _Story) -> _Story | None:
        """合并: now and then a ticket repeats an open one of the same category and place from
        the last two days; the operator merges it into that one."""
        row = story.row
        key = (row["category"], row["location"])
        candidates = [s for s in self.recent.get(key, ()) if row["received_at"] - s.row["received_at"] < dt.timedelta(days=2)]
        # Only the newest is ever merged into, and it is the last to leave the window: the
        # list stays short however many tickets a day brings.
        self.recent[key] = [story]
        if not candidates or self.rng.random() > 0.03:
            return None
        return candidates[-1]

    def merge(self, story: _Story, main: _Story) -> bool:
        row = story.row
        at = row["received_at"] + dt.timedelta(minutes=self.rng.uniform(10, 90))
        state, unit_id = self._state_at(main, at)
        if at >= self.now or state in _FINISHED or main.merged_into is not None:
            return False
        story.merged_into = main
        self.w.event(story, at, self.operator, "merge", to_state=State.MERGED.value,
                     note=f"已并入工单 {main.row['number']}", data={"into": main.row["number"]})
        self.w.event(main, at, self.operator, "merge_in", note=f"工单 {row['number']} 已并入本工单", unit_id=unit_id,
                     data={"merged": row["number"]})
        main.events[-1].from_state = main.events[-1].to_state = state
        main.events.sort(key=lambda e: (e.at, e.seq))
        # lifecycle._tell_merged: every later result of the main ticket reaches this citizen.
        for e in main.events:
            if e.at > at and e.action in ("resolve", "answer"):
                row["reply"], row["resolved_at"] = e.note, e.at
                self.w.event(story, e.at, e.actor, "main_resolved", note=e.note, data={"main": main.row["number"]})
        return True

    @staticmethod
    def _state_at(story: _Story, at: dt.datetime) -> tuple[str, int | None]:
        events = sorted(story.events, key=lambda e: (e.at, e.seq))
        i = bisect.bisect_right([e.at for e in events], at) - 1
        return events[i].to_state, events[i].unit_after


def generate(session: Session, city: City, rules: IntakeRules, actors: dict[str, Actor],
             size: HistorySize = HistorySize(), *, now: dt.datetime | None = None,
             progress: Progress | None = None, agents: Mapping[str, Actor] | None = None) -> HistorySummary:
    """Write `size` of history ending at `now`; the caller owns the transaction. `actors`
    names who acts: "operator", "supervisor", and unit codes with their staff. `agents`, the
    staff at each phone extension (7001…), file the phone tickets whose calls they answered
    (see _by_agents); without one, "operator" files them."""
    say = progress or (lambda _stage, _done, _total: None)
    now = (now or utcnow()).replace(microsecond=0)
    g = _Generator(session, city, rules, size, now, actors)
    times = g.arrivals() if g.examples else []
    if not times:
        return HistorySummary(tickets=0, events=0, days=0)
    numbers = g.numbers(times)
    stories = []
    for i, (at, number) in enumerate(zip(times, numbers)):
        stories.append(g.story(i, number, at))
        if i % 2000 == 0:
            say("tickets", i, len(times))
    say("tickets", len(times), len(times))
    calls = demo_calls.plan(_phone_tickets(stories), now, size.seed, operator_id=g.operator.user_id)
    if agents:
        _by_agents(stories, calls, agents)
    return _write(session, stories, calls, now, say)


# What an operator settles during the call itself (_Generator.handle).
_ON_THE_LINE = {"answer", "invalidate", "handover"}


def _by_agents(stories: list[_Story], calls: demo_calls.CallPlan, agents: Mapping[str, Actor]) -> None:
    """The agent who answered a phone ticket's call filed it, settled it on the line if it was,
    and sent it to its first unit just after (the operator's own steps of the ticket, those
    质检 scores and 交接班 lists); later steps (a second unit after a return, follow-up calls,
    merges) stay with the desk ("operator"). The events are hashed later, in _write."""
    agent_of = {c["linkedid"]: c["agent"] for c in calls.calls if c["agent"]}
    for story in stories:
        linkedid = calls.filed.get(story.row["number"])
        actor = agents.get(extension_of(agent_of.get(linkedid) or "")) if linkedid else None
        if actor is None:
            continue
        transferred = False
        for event in story.events:
            if event.action == "receive" or event.action in _ON_THE_LINE:
                event.actor = actor
            elif event.action == "transfer" and not transferred:
                transferred = True
                event.actor = actor


def _phone_tickets(stories: list[_Story]) -> list[demo_calls.PhoneTicket]:
    tickets = []
    for s in stories:
        row = s.row
        if row["channel"] != Channel.PHONE.value:
            continue
        settled = next((e.at for e in s.events if e.action in _ON_THE_LINE), None)
        tickets.append(demo_calls.PhoneTicket(row["number"], row["phone"], row["received_at"], settled,
                                              invalid=row["state"] == State.INVALID.value,
                                              handed_over_to=row["handover_to"]))
    return tickets


def _write(session: Session, stories: list[_Story], calls: demo_calls.CallPlan, now: dt.datetime,
           say: Progress) -> HistorySummary:
    if not stories:
        return HistorySummary(tickets=0, events=0, days=0)
    for story in stories:  # the summary a merged ticket keeps (lifecycle.merge)
        if story.merged_into is not None:
            story.row["unit_id"] = None
    say("writing", 0, 5)
    _insert(session, Ticket.__table__, [s.row for s in stories])
    ids = dict(session.execute(select(Ticket.number, Ticket.id)
                               .where(Ticket.received_at >= stories[0].row["received_at"])).all())
    for story in stories:
        story.row["id"] = ids[story.row["number"]]
    merged = [{"t_id": s.row["id"], "main_id": s.merged_into.row["id"]} for s in stories if s.merged_into is not None]
    if merged:
        table = Ticket.__table__
        session.execute(update(table).where(table.c.id == bindparam("t_id")).values(merged_into_id=bindparam("main_id")),
                        merged)
    _insert(session, IntakeSource.__table__, [
        {"ticket_id": s.row["id"], "channel": s.row["channel"], "channel_ref": f"demo-history:{s.row['number']}",
         "received_at": s.row["received_at"], "body": s.row["body"],
         "call_linkedid": calls.filed.get(s.row["number"])} for s in stories])
    transfers = [{"ticket_id": s.row["id"], **t} for s in stories for t in s.transfers]
    if transfers:
        _insert(session, Transfer.__table__, transfers)
    say("writing", 1, 5)
    extended = [s for s in stories if s.extension is not None]
    if extended:
        _insert(session, ExtensionRequest.__table__, [{"ticket_id": s.row["id"], **s.extension} for s in extended])
        request_ids = dict(session.execute(select(ExtensionRequest.ticket_id, ExtensionRequest.id)
                                           .where(ExtensionRequest.ticket_id >= extended[0].row["id"])).all())
        for s in extended:
            for e in s.events:
                if e.action in ("approve_extension", "refuse_extension"):
                    e.data["request_id"] = request_ids[s.row["id"]]  # type: ignore[index]
    events = sorted((e for s in stories for e in s.events), key=lambda e: (e.at, e.seq))
    last: dict[int, str | None] = {}
    rows = []
    for e in events:
        story = e.ticket
        prev = last.get(story.index)
        digest = audit.event_hash(story.row["number"], _HashView(e), prev)
        last[story.index] = digest
        rows.append({"ticket_id": story.row["id"], "at": e.at, "actor_id": e.actor.user_id, "actor": e.actor.label,
                     "action": e.action, "from_state": e.from_state, "to_state": e.to_state, "unit_id": e.unit_id,
                     "note": e.note, "data": e.data, "prev_hash": prev, "hash": digest})
    say("writing", 2, 5)
    _insert(session, TicketEvent.__table__, rows)
    say("writing", 3, 5)
    rollup.add(session, (s.row for s in stories), transfers)
    outcomes = [{"ticket_id": s.row["id"], **s.outcome} for s in stories if s.outcome is not None]
    if outcomes:
        _insert(session, RoutingOutcome.__table__, outcomes)
        rollup.add_rows(session, routing_feedback.OUTCOMES, outcomes)
    say("writing", 4, 5)
    _write_calls(session, calls, ids)
    say("writing", 5, 5)
    # The days the history spans, today included: just after midnight today has no ticket yet.
    days = (local_date(now) - min(local_date(s.row["received_at"]) for s in stories)).days + 1
    return HistorySummary(tickets=len(stories), events=len(rows), days=days, calls=len(calls.calls))


def _write_calls(session: Session, calls: demo_calls.CallPlan, tickets: dict[str, int]) -> None:
    """The calls, each phone ticket's pointing at it, the callbacks of the missed ones, and
    their running totals (what the call_totals flush hook adds for calls written one by one)."""
    if not calls.calls:
        return
    filed_from = {linkedid: tickets[number] for number, linkedid in calls.filed.items()}
    for call in calls.calls:
        call["ticket_id"] = filed_from.get(call["linkedid"])
    _insert(session, Call.__table__, calls.calls)
    rollup.add_rows(session, call_totals.CALLS, calls.calls)
    if calls.callbacks:
        missed = dict(session.execute(select(Call.linkedid, Call.id)
                                      .where(Call.linkedid.in_([c["linkedid"] for c in calls.callbacks]))).all())
        _insert(session, Callback.__table__, [{"call_id": missed[c["linkedid"]], **c} for c in calls.callbacks])


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows straight through the driver: COPY on PostgreSQL, one prepared
    executemany on SQLite, several times faster than the same rows through SQLAlchemy's
    executemany. Values are bound as the column types bind them (the dialect's processors)."""
    connection = session.connection()
    dialect = connection.dialect
    columns = [c for c in table.columns if c.name in rows[0]]
    names = [c.name for c in columns]
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]

    def values(row: dict[str, Any]) -> list[Any]:
        return [row[n] if p is None else p(row[n]) for n, p in zip(names, processors)]

    cursor = connection.connection.driver_connection.cursor()
    try:
        if dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values(row))
        else:
            cursor.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                               [values(row) for row in rows])
    finally:
        cursor.close()
