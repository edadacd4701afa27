"""The second model of catalogue routing: trained on the city's resolved tickets once enough
carry a level-3 entry, it proposes the entry where the terms find nothing, within the level 1
the first model gave, and yields to the terms where they have been right more often."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from classifier import Example
from dispatch import catalogue, entry_model, lifecycle
from dispatch.actors import Actor
from dispatch.catalogue import from_city
from dispatch.catalogue_match import Catalogue
from dispatch.routing import city_router
from dispatch.units import City, DEMO_CITY, load_city, unit_by_code
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

GAS, PROPERTY, WATER = "010213", "011003", "010216"
# Words none of the catalogue's terms contain: the terms find only level 1 in these texts.
WORDS = {GAS: ["蓝色罐子", "嘶嘶声", "阀门旁边", "刺鼻味道", "厨房灶台"],
         PROPERTY: ["保安大叔", "门禁卡", "大门岗亭", "管家服务费", "车位划线"],
         WATER: ["黄汤", "龙头出来", "浑浊发黄", "二次加压", "顶楼用户"]}
FILLER = ["我们小区", "最近一周", "反映多次", "一直没人管", "希望尽快", "住户很着急", "晚上尤其明显"]


@dataclass(frozen=True)
class Level1:
    """The first model, as routing sees it: always 城乡建设, surely."""

    @dataclass(frozen=True)
    class Guess:
        label: str
        probability: float

    def predict(self, text: str, k: int = 3) -> list[Guess]:
        return [self.Guess("城乡建设", 0.97)]


def _text(rng: random.Random, code: str) -> str:
    words = rng.sample(WORDS[code], 2) + rng.sample(FILLER, 3)
    rng.shuffle(words)
    return "，".join(words) + "。"


def _history(n: int, seed: int = 3) -> list[Example]:
    rng = random.Random(seed)
    codes = [GAS, PROPERTY, WATER]
    return [Example(title=f"反映{i}", body=_text(rng, code), label=code)
            for i in range(n) for code in codes[i % 3:i % 3 + 1]]


@pytest.fixture(scope="module")
def city_catalogue() -> tuple[City, Catalogue]:
    city = load_city(DEMO_CITY)
    return city, from_city(city)


@pytest.fixture(scope="module")
def trained(city_catalogue: tuple[City, Catalogue]) -> entry_model.EntryModel:
    model = entry_model.train(_history(90), city_catalogue[1], min_tickets=60)
    assert model is not None
    return model


def test_too_small_a_history_trains_nothing(city_catalogue: tuple[City, Catalogue]) -> None:
    assert entry_model.train(_history(59), city_catalogue[1], min_tickets=60) is None


def test_the_model_finds_the_entry_where_the_terms_find_only_level_1(
        city_catalogue: tuple[City, Catalogue], trained: entry_model.EntryModel) -> None:
    city, entries = city_catalogue
    router = city_router(city, Level1(), min_confidence=0.0, catalogue=entries)
    text = "厨房灶台那边有嘶嘶声，阀门旁边还有刺鼻味道，住户很着急。"
    alone = router.route(text)
    assert alone.entry is not None and alone.entry["level"] == 1 and alone.unit_code == "housing"  # level 1 only
    router.entry_model = trained
    answer = router.route(text)
    assert answer.entry is not None and answer.entry["code"] == GAS and answer.entry["level"] == 3
    assert answer.entry["source"] == "model" and answer.unit_code == "gas"
    assert "三级模型" in answer.reason
    # On a history where the level 1's 其他 was always right when no term was found, it stands.
    router.entry_model = entry_model.EntryModel(trained.model, trained.level1_of, {0: 1.0}, trained.trained_on)
    assert router.route(text).entry["code"] == alone.entry["code"]


def test_a_terms_hit_stands_where_the_terms_were_surer(city_catalogue: tuple[City, Catalogue],
                                                       trained: entry_model.EntryModel) -> None:
    city, entries = city_catalogue
    # 停水 is the water entry's own term; the history never saw it: the terms decide.
    text = "嘶嘶声，厨房灶台，刺鼻味道，今天停水了。"
    terms = entries.match(text, "城乡建设")
    assert terms is not None and terms.item.code == WATER and terms.terms
    sure = entry_model.EntryModel(trained.model, trained.level1_of, {-1: 1.0}, trained.trained_on)
    assert sure.choose(text, "城乡建设", terms, entries) is terms
    unsure = entry_model.EntryModel(trained.model, trained.level1_of, {-1: 0.0}, trained.trained_on)
    chosen = unsure.choose(text, "城乡建设", terms, entries)
    assert chosen is not None and chosen.source == "model" and chosen.item.code == GAS
    # Another level 1: the model has no entry there and leaves the terms' answer alone.
    assert unsure.predict(text, "交通运输") is None


def test_the_history_is_resolved_tickets_with_their_entry(session: Session, units: City, operator: Actor) -> None:
    assert catalogue.seed(session, units)
    gas_entry = catalogue.find_current(session, GAS)
    done, still_open = (new_ticket(session, body=f"厨房灶台有嘶嘶声{n}。") for n in range(2))
    for ticket in (done, still_open):
        lifecycle.transfer(session, ticket, unit_by_code(session, "gas"), operator, entry=gas_entry)
    now = done.received_at + dt.timedelta(hours=2)
    gas = unit_staff(session, "gas")
    lifecycle.accept(session, done, gas, now=now)
    lifecycle.resolve(session, done, gas, "已处理，经现场核实问题已解决。", now=now)
    session.commit()
    assert [(e.body, e.label) for e in entry_model.history(session)] == [(done.body, GAS)]
