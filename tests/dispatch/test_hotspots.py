"""热点: a burst of complaints about one place and matter stands out from weeks of ordinary
tickets, both as a rising topic and as a 多人反映 cluster; the score's numbers by hand."""
from __future__ import annotations

import datetime as dt
import math
import random
from typing import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import db, hotspots, similarity
from dispatch.clock import CHINA, local_date, local_day_start, utcnow
from dispatch.demo import seed_with_history
from dispatch.demo_history import HistorySize
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import Ticket
from dispatch.vocabulary import Channel
from dispatch.units import City
from tests.conftest import _empty_tables

NOW = utcnow().replace(microsecond=0)
SURGE_DAY = local_date(NOW) - dt.timedelta(days=1)
# Fifteen citizens, three channels, one broken manhole cover in 济水街道, each in their own words;
# the place is in the words or in the location given.
SURGE = [
    "济水街道宏达小区门口的井盖丢了，晚上很黑，有人掉进去了，请尽快修复。",
    "宏达小区门口井盖丢失，已经有老人掉进去受伤，济水街道这边请赶紧处理。",
    "我家在济水街道宏达小区，门口井盖不见了，很危险，孩子上学要经过。",
    "宏达小区门口那个井盖被偷了，一个大坑，晚上看不见，太危险了。",
    "反映济水街道宏达小区门口井盖丢失问题，希望尽快补上井盖。",
    "宏达小区大门口井盖没有了，电动车差点掉进去，请相关部门处理。",
    "济水街道宏达小区门口井盖缺失，存在安全隐患，请尽快修复井盖。",
    "宏达小区门口的井盖丢了好几天了，没人管，晚上非常危险。",
    "宏达小区门前井盖丢失，昨晚有人摔伤，请马上派人来修。",
    "济水宏达小区门口井盖不见了，请尽快安排人员补装井盖。",
    "投诉宏达小区门口井盖丢失一直没人处理，路过的人都很害怕。",
    "宏达小区门口井盖被人偷走，路面留下大洞，请尽快处理井盖。",
    "济水街道宏达小区门口的井盖缺失，晚上没有照明，非常危险。",
    "宏达小区门口井盖丢失，学生每天经过，请赶紧补上井盖。",
    "我要反映宏达小区门口井盖丢了，请济水街道尽快修好。",
]
CHANNELS = (Channel.PHONE, Channel.WEB, Channel.SMS)


@pytest.fixture(scope="module")
def loaded(engine: Engine, city: City) -> Iterator[sessionmaker[Session]]:
    """Five weeks of ordinary history (a few hundred tickets) and, on one day, the burst."""
    _empty_tables(engine)
    sessions = db.make_sessionmaker(engine)
    with sessions.begin() as session:
        seed_with_history(session, city, IntakeRules(), HistorySize(days=35, per_day=15, seed=3), now=NOW)
        for i, text in enumerate(SURGE):
            at = dt.datetime.combine(SURGE_DAY, dt.time(8, 30), CHINA) + dt.timedelta(minutes=25 * i)
            intake(session, IntakeRequest(channel=CHANNELS[i % 3], body=text, phone=f"1390391{i:04d}",
                                          location=None if "济水" in text else "济水街道宏达小区", category="城乡建设"),
                   IntakeRules(), now=at.astimezone(dt.timezone.utc))
    yield sessions
    _empty_tables(engine)


@pytest.fixture
def session(loaded: sessionmaker[Session]) -> Iterator[Session]:
    with loaded() as session:
        yield session
        session.rollback()


def test_fifteen_complaints_about_one_place_and_matter_rise_to_the_top(session: Session) -> None:
    found = hotspots.hotspots(session, SURGE_DAY, SURGE_DAY)
    top = found["rising"][0]
    assert (top["category"], top["township"], top["day"]) == ("城乡建设", "jishui", SURGE_DAY.isoformat())
    assert top["place"] == "济水街道"
    assert top["count"] >= 15
    # The numbers behind the score are there, and give the score.
    expected = (top["baseline_tickets"] + 0.5) / top["baseline_days"]
    assert top["expected"] == pytest.approx(expected, abs=1e-4)
    assert top["score"] == pytest.approx(-math.log10(hotspots.poisson_tail(top["count"], expected)), abs=0.01)
    assert top["score"] > 10
    # Ordinary days elsewhere do not outrank it.
    assert all(r["score"] <= top["score"] for r in found["rising"])


# A quiet place's weeks in September 2026 (months before the history above): a ticket on each
# working day of the 28 before 2026-09-20, none on the rest days; then, on 2026-09-20 (a Sunday
# made a working day for National Day) 5, and on 2026-09-25 (a Friday, 中秋节) 3.
QUIET_DAYS = (dt.date(2026, 8, 23), dt.date(2026, 9, 19))
MAKE_UP_SUNDAY, MID_AUTUMN = dt.date(2026, 9, 20), dt.date(2026, 9, 25)


def _take_in_jishui(session: Session, day: dt.date, hour: int) -> None:
    at = dt.datetime.combine(day, dt.time(hour), CHINA).astimezone(dt.timezone.utc)
    intake(session, IntakeRequest(channel=Channel.WEB, body="小区门口路灯不亮", location="济水街道宏达小区",
                                  category="城乡建设"), IntakeRules(), now=at)


def _quiet_weekends_then_two_busy_days(session: Session) -> None:
    first, last = QUIET_DAYS
    end = local_day_start(MID_AUTUMN + dt.timedelta(days=1))
    assert not session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.received_at >= local_day_start(first), Ticket.received_at < end))
    day = first
    while day <= last:
        if day.weekday() < 5:         # these four weeks have no holiday: Monday to Friday work
            _take_in_jishui(session, day, 10)
        day += dt.timedelta(days=1)
    for hour in range(9, 14):
        _take_in_jishui(session, MAKE_UP_SUNDAY, hour)
    for hour in range(9, 12):
        _take_in_jishui(session, MID_AUTUMN, hour)
    session.flush()


def test_a_day_is_compared_with_the_baseline_days_of_its_own_kind(session: Session) -> None:
    _quiet_weekends_then_two_busy_days(session)
    rows = hotspots.rising(session, MAKE_UP_SUNDAY, MID_AUTUMN)
    # The baseline, 2026-08-23..09-19: 20 working days with 20 tickets, 8 rest days with none.
    # 中秋节, a rest day: expected (0 + 0.5) / 8 = 0.0625, P(X >= 3) = 3.8830e-5, score 4.41: rising.
    # Against the mean of all 28 days, (20 + 0.5) / 28 = 0.7321, P(X >= 3) = 0.0382, score 1.42, it
    # would not be. The make-up Sunday, a working day: expected (20 + 0.5) / 20 = 1.025,
    # P(X >= 5) = 4.0576e-3, score 2.39: not rising. Against 0.7321, P(X >= 5) = 9.5771e-4, score
    # 3.02, it would be: the Monday-after-a-quiet-weekend alarm.
    # (The whole city's row is left out: the tickets are all in one place.)
    assert [(r["day"], r["township"], r["count"], r["baseline_tickets"], r["baseline_days"], r["expected"],
             r["score"]) for r in rows] == [("2026-09-25", "jishui", 3, 0, 8, 0.0625, 4.41)]
    assert rows[0]["p_value"] == pytest.approx(3.8830e-5, rel=1e-4)
    assert (rows[0]["day_kind"], rows[0]["baseline_kind"]) == ("rest_day", "rest_day")


def test_a_baseline_without_a_day_of_the_kind_is_taken_whole(session: Session) -> None:
    _quiet_weekends_then_two_busy_days(session)
    # A baseline of one day, Saturday 09-19, has no working day for the make-up Sunday: it is
    # compared with that whole day, expected (0 + 0.5) / 1, P(X >= 5 | 0.5) = 1.7212e-4, score 3.76.
    rows = hotspots.rising(session, MAKE_UP_SUNDAY, MAKE_UP_SUNDAY, rules=hotspots.HotspotRules(baseline_days=1))
    assert [(r["day"], r["count"], r["baseline_tickets"], r["baseline_days"], r["expected"], r["score"])
            for r in rows] == [("2026-09-20", 5, 0, 1, 0.5, 3.76)]
    assert (rows[0]["day_kind"], rows[0]["baseline_kind"]) == ("workday", "all")


def _surge(session: Session) -> set[str]:
    return set(session.scalars(select(Ticket.number).where(Ticket.phone.like("%1390391%"))))


def test_the_fifteen_complaints_are_one_cluster_on_top(session: Session) -> None:
    found = hotspots.hotspots(session, SURGE_DAY, SURGE_DAY)
    top = found["clusters"][0]
    surge_numbers = {t["number"] for t in top["tickets"]}
    # Thirteen of the fifteen: two say it in words too far from the others (cosine < 0.15 with
    # most of them); no ordinary ticket joins.
    assert top["count"] >= 13, top
    assert len(_surge(session)) == 15 and surge_numbers <= _surge(session)
    assert top["citizens"] == top["count"]                  # fifteen different numbers
    assert set(top["channels"]) == {"phone", "web", "sms"}
    assert top["places"][0]["township"] == "jishui"
    assert "井盖" in top["representative"]["text"]
    assert top["representative"]["number"] in surge_numbers
    assert all(c["count"] < top["count"] for c in found["clusters"][1:])


def test_a_quiet_day_has_no_hotspot_of_that_place(session: Session) -> None:
    day = SURGE_DAY - dt.timedelta(days=3)
    found = hotspots.hotspots(session, day, day)
    assert not any(r["township"] == "jishui" and r["category"] == "城乡建设" for r in found["rising"])
    assert not any(c["places"] and c["places"][0]["township"] == "jishui" and c["count"] >= 10
                   for c in found["clusters"])


def _candidates(session: Session) -> tuple[list[str], list[str], list[str | None]]:
    """Every ticket of the scenario as the clusters read it: text, township, category."""
    rows = hotspots._ticket_rows(session, NOW - dt.timedelta(days=60), NOW + dt.timedelta(days=1))
    return ([hotspots.message_text(r.title, r.body_start or "") for r in rows], [r.township for r in rows],
            [r.category for r in rows])


def test_the_newest_candidates_are_counted_off_in_sql_as_sorting_them_all_would(session: Session) -> None:
    # The period's tickets, then the older open ones, newest first: at most `limit`, cut in SQL.
    start, end = local_day_start(SURGE_DAY), local_day_start(SURGE_DAY + dt.timedelta(days=1))
    open_since = end - dt.timedelta(days=30)
    everything = hotspots._ticket_rows(session, start, end, open_since=open_since)
    newest = sorted(everything, key=lambda r: (r.received_at, r.id), reverse=True)
    in_period = sum(1 for r in everything if r.received_at >= start)
    assert in_period >= 15 and len(everything) > in_period + 10
    for limit in (7, in_period, in_period + 10, len(everything) + 1):
        found = hotspots._ticket_rows(session, start, end, open_since=open_since, limit=limit)
        assert [r.id for r in found] == [r.id for r in newest[:limit]]


def _same_pairs(found: list[dict[int, float]], one_by_one: list[dict[int, float]]) -> None:
    # The same pairs in the same order; the cosines summed in another order agree to ~1e-15, so
    # their scores rounded to 12 decimals to a unit of the last (one on the rounding's edge).
    assert [list(d) for d in found] == [list(d) for d in one_by_one]
    assert [list(d.values()) for d in found] == [pytest.approx(list(d.values()), abs=1.5e-12) for d in one_by_one]


def test_the_bounded_product_finds_the_pairs_one_by_one_found(session: Session) -> None:
    texts, townships, categories = _candidates(session)
    assert len(texts) > 400
    index = similarity.new_index()
    for min_score, pairs in ((0.3, 30), (0.2, 200)):
        one_by_one = hotspots.near_pairs_one_by_one(index, texts, townships, categories, min_score)
        assert sum(len(d) for d in one_by_one) > pairs     # the comparison compares something
        _same_pairs(hotspots.near_pairs(index, texts, townships, categories, min_score), one_by_one)


def test_the_bonuses_decide_pairs_as_one_by_one(session: Session) -> None:
    # A seeded scenario where many pairs sit near the threshold: the same few sentences about
    # places and matters mixed at random, places and categories missing now and then.
    rng = random.Random(16)
    places = ["济水街道", "沁园街道", "天坛街道", "北海街道", ""]
    matters = ["门口井盖丢失很危险", "路灯不亮晚上很黑", "垃圾没人清运有臭味", "楼下饭店油烟扰民", "小区停水三天了"]
    texts, townships, categories = [], [], []
    for _ in range(400):
        place, matter = rng.choice(places), rng.choice(matters)
        texts.append(f"{place}{rng.choice(['宏达小区', '幸福小区', ''])}{matter}，{rng.choice(matters)[:4]}请处理。")
        townships.append(rng.choice([place, place, hotspots.NO_PLACE]))
        categories.append(rng.choice(["城乡建设", "环境保护", None]))
    for min_score in (0.3, 0.45):
        one_by_one = hotspots.near_pairs_one_by_one(similarity.new_index(), texts, townships, categories, min_score)
        _same_pairs(hotspots.near_pairs(similarity.new_index(), texts, townships, categories, min_score), one_by_one)
        assert sum(len(d) for d in one_by_one) > 1000


def test_a_township_multiplied_out_beside_townships_listed_finds_the_pairs_one_by_one_found(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Most texts in one township (its bounds let through more pairs than its product costs: it is
    # multiplied out), a few in each of the others (bounded and listed); pairs near the threshold.
    rng = random.Random(16)
    places = ["济水街道", "沁园街道", "天坛街道", "北海街道", ""]
    matters = ["门口井盖丢失很危险", "路灯不亮晚上很黑", "垃圾没人清运有臭味", "楼下饭店油烟扰民", "小区停水三天了"]
    texts, townships, categories = [], [], []
    for _ in range(400):
        place, matter = rng.choices(places, weights=[12, 1, 1, 1, 1])[0], rng.choice(matters)
        texts.append(f"{place}{rng.choice(['宏达小区', '幸福小区', ''])}{matter}，{rng.choice(matters)[:4]}请处理。")
        townships.append(rng.choice([place, place, hotspots.NO_PLACE]))
        categories.append(rng.choice(["城乡建设", "环境保护", None]))
    chosen = []
    multiplied = hotspots._multiplied_townships
    monkeypatch.setattr(hotspots, "_multiplied_townships", lambda *a: chosen.append(multiplied(*a)) or chosen[-1])
    for min_score in (0.3, 0.45):
        one_by_one = hotspots.near_pairs_one_by_one(similarity.new_index(), texts, townships, categories, min_score)
        _same_pairs(hotspots.near_pairs(similarity.new_index(), texts, townships, categories, min_score), one_by_one)
        assert chosen[-1].tolist() == [True, False, False, False]     # 济水 first, by the order met
        # Listing every township finds them too.
        _same_pairs(hotspots.near_pairs(similarity.new_index(), texts, townships, categories, min_score,
                                        multiply_townships=False), one_by_one)
        assert sum(len(d) for d in one_by_one) > 1000


def test_poisson_tail_by_hand() -> None:
    # P(X >= 2 | 0.5) = 1 - e^-0.5 (1 + 0.5) = 1 - 0.6065306597 x 1.5 = 0.0902040104
    assert hotspots.poisson_tail(2, 0.5) == pytest.approx(0.0902040104, rel=1e-9)
    # A cell with 3 tickets in its 28 baseline days and 4 today: expected = (3 + 0.5) / 28 = 0.125;
    # P(X >= 4) = 1 - e^-0.125 (1 + 0.125 + 0.125^2/2 + 0.125^3/6) = 9.2064e-6, score = 5.04
    assert hotspots.poisson_tail(4, 0.125) == pytest.approx(9.2064137e-6, rel=1e-6)
    assert hotspots.score_of(hotspots.poisson_tail(4, 0.125)) == pytest.approx(5.036, abs=1e-3)
    assert hotspots.poisson_tail(0, 3.0) == 1.0
    # Far in the tail, where 1 - CDF rounds to zero, the sum from the tail still gives a number.
    assert 0 < hotspots.poisson_tail(15, 0.5 / 28) < 1e-30
