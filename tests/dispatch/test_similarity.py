"""Similar open tickets: another citizen's words for the same matter are found; closed,
old and the asking ticket itself are not."""
from __future__ import annotations

import csv
import datetime as dt

import pytest
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sqlalchemy.orm import Session

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.routing import Gazetteer
from classifier.dataset import SHIPPED_DATA
from classifier.features import message_text
from dispatch.similarity import (SAME_CATEGORY_BONUS, SAME_PLACE_BONUS, TEXT_CHARS, Places, _clean, _start, new_index,
                                 rank, similar_open_tickets, similar_to_ticket)
from dispatch.units import City
from tests.dispatch.helpers import new_ticket

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
LIGHTS = "济水街道宣化街从济渎路口往北一段路灯十几盏不亮，已经一个多月，晚上骑车看不清路。"
LIGHTS_AGAIN = "宣化街济渎路口往北那截路灯好多都不亮了，一个多月了，晚上黑得很，赶紧修修。"
WAGES = "玉泉街道安置房工地包工头拖欠二十多个农民工半年工资，电话打不通。"
# Two tickets make a tiny pool, whose IDF scores paraphrases lower than thousands would.
LOW = 0.1


@pytest.fixture
def places(city: City):  # type: ignore[no-untyped-def]
    gazetteer = Gazetteer(city.gazetteer)
    return lambda text: [code for _, code in gazetteer.find(text)]


def test_a_paraphrase_ranks_above_an_unrelated_ticket(session: Session) -> None:
    unrelated = new_ticket(session, body=WAGES, now=NOW)
    original = new_ticket(session, body=LIGHTS, now=NOW)
    found = similar_open_tickets(session, LIGHTS_AGAIN, now=NOW, min_score=0.0)
    assert [t.number for t in found] == [original.number, unrelated.number]
    assert found[0].score > LOW > found[1].score
    assert [t.number for t in similar_open_tickets(session, LIGHTS_AGAIN, now=NOW, min_score=LOW)] == [original.number]


def test_the_same_township_adds_the_place_bonus(places) -> None:  # type: ignore[no-untyped-def]
    candidates = [("沁园街道锦绣苑小区暖气不热，屋里只有十五度。", None),
                  ("克井镇锦绣苑小区暖气不热，屋里只有十五度。", None)]
    ranked = rank("沁园锦绣苑小区暖气不热", candidates, places=places)
    by_index = {i: (score, text_score, same_place) for i, score, text_score, same_place, _ in ranked}
    score, text_score, same_place = by_index[0]
    assert same_place and score == pytest.approx(text_score + SAME_PLACE_BONUS)
    score, text_score, same_place = by_index[1]
    assert not same_place and score == pytest.approx(text_score)
    assert ranked[0][0] == 0


def test_closed_tickets_are_not_suggested(session: Session, operator: Actor) -> None:
    answered = new_ticket(session, body=LIGHTS, now=NOW)
    lifecycle.answer(session, answered, operator, "已告知路灯所维修，经现场核实问题已解决。", now=NOW)
    invalid = new_ticket(session, body=LIGHTS + "（重复来电）", now=NOW)
    lifecycle.invalidate(session, invalid, operator, "测试电话", now=NOW)
    session.flush()
    assert similar_open_tickets(session, LIGHTS_AGAIN, now=NOW, min_score=0.0) == []


def test_tickets_older_than_the_window_are_not_suggested(session: Session) -> None:
    old = new_ticket(session, body=LIGHTS, now=NOW - dt.timedelta(days=31))
    recent = new_ticket(session, body=LIGHTS + "请尽快处理。", now=NOW - dt.timedelta(days=29))
    found = similar_open_tickets(session, LIGHTS_AGAIN, days=30, now=NOW, min_score=LOW)
    assert [t.number for t in found] == [recent.number]
    found = similar_open_tickets(session, LIGHTS_AGAIN, days=40, now=NOW, min_score=LOW)
    assert {t.number for t in found} == {old.number, recent.number}


def test_a_ticket_is_not_suggested_as_similar_to_itself(session: Session) -> None:
    original = new_ticket(session, body=LIGHTS, now=NOW)
    again = new_ticket(session, body=LIGHTS_AGAIN, now=NOW)
    found = similar_to_ticket(session, again, now=NOW, min_score=LOW)
    assert [t.number for t in found] == [original.number]
    assert [t.number for t in similar_to_ticket(session, original, now=NOW, min_score=LOW)] == [again.number]


# The scoring as it was computed on every call before the gram index: kept here as the
# reference the index must reproduce.
_REFERENCE_GRAMS = HashingVectorizer(analyzer="char", ngram_range=(2, 3), alternate_sign=False, norm=None,
                                     n_features=2**20)


def reference_rank(query: str, candidates: list[tuple[str, str | None]], *, category: str | None = None,
                   places: Places | None = None) -> list[tuple[int, float, float, bool, bool]]:
    texts = [_clean(query)[:TEXT_CHARS]] + [_clean(text)[:TEXT_CHARS] for text, _ in candidates]
    if not candidates or not texts[0]:
        return []
    counts = _REFERENCE_GRAMS.transform(texts)
    if counts.nnz == 0:
        return []
    matrix = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
    cosines = (matrix[1:] @ matrix[0].T).toarray().ravel()
    query_places = set(places(query)) if places else set()
    ranked = []
    for i, ((text, their_category), cosine) in enumerate(zip(candidates, cosines)):
        same_place = bool(query_places) and bool(query_places & set(places(text))) if places else False
        same_category = category is not None and their_category == category
        score = min(1.0, float(cosine) + SAME_PLACE_BONUS * same_place + SAME_CATEGORY_BONUS * same_category)
        ranked.append((i, score, float(cosine), same_place, same_category))
    ranked.sort(key=lambda r: -r[1])
    return ranked


def _dev_messages(n: int) -> list[tuple[str, str | None]]:
    with SHIPPED_DATA[0].open(encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f) if row["body"]][:n]
    return [(message_text(row["title"], row["body"]), row["label"]) for row in rows]


def _same(expected: list[tuple[int, float, float, bool, bool]],
          got: list[tuple[int, float, float, bool, bool]], top: int) -> None:
    assert [r[0] for r in got[:top]] == [r[0] for r in expected[:top]]
    assert len(got) == len(expected)
    by_index = {r[0]: r for r in expected}
    for i, score, text_score, same_place, same_category in got:
        assert abs(score - by_index[i][1]) < 1e-9 and abs(text_score - by_index[i][2]) < 1e-9
        assert (same_place, same_category) == by_index[i][3:]


def test_the_index_ranks_as_the_reference_does(places) -> None:  # type: ignore[no-untyped-def]
    """Same top 10 and the same scores (to 1e-9) over 400 real messages, each asking in turn
    with itself skipped, on one index kept across the queries as the app keeps it."""
    messages = _dev_messages(400)
    index = new_index()
    asked = range(0, 400, 13)
    for q in asked:
        query, category = messages[q]
        expected = reference_rank(query, messages[:q] + messages[q + 1:], category=category, places=places)
        got = rank(query, messages, category=category, places=places, index=index, skip=q)
        # The reference numbers the candidates without the asking one.
        _same(expected, [(i - (i > q), *rest) for i, *rest in got], top=10)
    query, category = messages[0]
    _same(reference_rank(LIGHTS_AGAIN, messages, category=category, places=places),
          rank(LIGHTS_AGAIN, messages, category=category, places=places, index=index), top=10)
    # Without an index (a fresh one per call): the same again.
    _same(reference_rank(WAGES, messages[:50]), rank(WAGES, messages[:50]), top=10)


def test_texts_without_grams_score_as_the_reference_does() -> None:
    candidates: list[tuple[str, str | None]] = [("！！", None), ("路灯不亮", None), ("", None), ("灯", None)]
    for query in ("路灯坏了不亮", "灯", "……", "abc 路灯"):
        _same(reference_rank(query, candidates), rank(query, candidates), top=len(candidates))
    assert rank("路", [("！", None), ("灯", None)]) == reference_rank("路", [("！", None), ("灯", None)]) == []
    # Only the skipped candidate has grams: nothing to weigh, as if it were not there.
    assert rank("灯", [("路灯不亮", None), ("灯", None)], skip=0) == []


@pytest.mark.parametrize("text", ["路灯" * 200, "路灯，" * 150, "，" * 400 + "路灯" * 200, "a" * 599 + "，，，b" + "c" * 400,
                                  "路" * 299 + " \n " * 200 + "灯" * 10, "路" * 300 + "！" * 400, "  路灯  "])
def test_the_cleaned_start_is_the_start_of_the_cleaned_text(text: str) -> None:
    for chars in (1, 299, 300, 301, None):
        assert _start(text, chars) == _clean(text)[:chars]


def test_a_kept_index_follows_the_open_tickets(session: Session, operator: Actor) -> None:
    """The index is looked up by the open tickets' texts: a new ticket is found at once, and a
    closed one drops out, with the same index kept across the calls."""
    index = new_index()
    unrelated = new_ticket(session, body=WAGES, now=NOW)
    asking = new_ticket(session, body=LIGHTS_AGAIN, now=NOW)
    assert [t.number for t in similar_to_ticket(session, asking, now=NOW, min_score=LOW, index=index)] == []
    original = new_ticket(session, body=LIGHTS, now=NOW)
    session.flush()
    found = similar_to_ticket(session, asking, now=NOW, min_score=0.0, index=index)
    assert [t.number for t in found] == [original.number, unrelated.number]
    assert [t.score for t in found] == [t.score for t in similar_to_ticket(session, asking, now=NOW, min_score=0.0)]
    lifecycle.answer(session, original, operator, "已告知路灯所维修，经现场核实问题已解决。", now=NOW)
    session.flush()
    assert [t.number for t in similar_to_ticket(session, asking, now=NOW, min_score=0.0, index=index)] == \
        [unrelated.number]
