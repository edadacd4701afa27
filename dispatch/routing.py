"""Which unit should handle a ticket, and why: explicit rules first, then the classifier's
category, sent to the township government for local categories when the text names a
place in its jurisdiction; below the confidence threshold, or for text without content,
manual triage with the top suggestions. Operators' corrections become training examples.

With a dispatch catalogue (派单目录), the classifier's category is level 1 and the
catalogue's own terms in the text pick the level-3 entry, whose unit (or the township
named, for 属地 entries) is proposed; the entry travels with the proposal."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, Sequence

import ahocorasick
from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier.selective import routing_threshold
from classifier.text import ContentProblem, content_problem
from dispatch.catalogue_match import Catalogue, Match, unit_for
from dispatch.clock import utcnow
from dispatch.models import RoutingExample, Ticket, Unit
from dispatch.units import City
from dispatch.vocabulary import (
    BY_ENTRY_ZH,
    BY_MODEL_ZH,
    BY_PLACE_ZH,
    CONTENT_REASONS_ZH,
    ENTRY_DISAGREES_ZH,
    ENTRY_MODEL_ZH,
    ENTRY_TERMS_JOINED_BY_ZH,
    ENTRY_TERMS_ZH,
    LOW_CONFIDENCE_ZH,
    MODEL_NOT_READY_ZH,
    ROUTED_BY_RULE_ZH,
)

# Why a text goes to manual triage before the model is asked (shown on the ticket page and
# the operator's console): a model's guess at text without content is noise, however sure.
CONTENT_REASONS = {problem: CONTENT_REASONS_ZH[problem.value] for problem in ContentProblem}


class Predictor(Protocol):
    """What routing needs of a classifier model (classifier.TrainedModel is one)."""

    def predict(self, text: str, k: int = 3) -> Sequence[Any]: ...  # items with .label and .probability


class Reviser(Protocol):
    """A slower second opinion (classifier.second_opinion.SecondOpinion is one): given the
    text and the fast model's predictions, the revised top three."""

    min_confidence: float   # the routing threshold it was chosen with, unless the setting gives one

    def asked(self, probability: float, threshold: float) -> bool: ...  # for a fast top probability

    def revise(self, text: str, predictions: Sequence[Any], k: int = 3) -> Sequence[Any]: ...


class EntryChooser(Protocol):
    """The level-3 model (dispatch/entry_model.EntryModel is one): given the terms' match
    (or None), the match to propose."""

    def choose(self, text: str, level1: str | None, terms: Match | None, catalogue: Catalogue) -> Match | None: ...


ALL_LABELS = 1000  # k for "every label's probability": predict() caps k at the labels it knows


@dataclass(frozen=True)
class Suggestion:
    unit_code: str
    category: str | None
    probability: float | None
    source: str              # model, rule, gazetteer, catalogue
    detail: str = ""


@dataclass(frozen=True)
class RoutingAnswer:
    """The proposed unit (None: manual triage), why, and the alternatives shown to the operator."""

    unit_code: str | None
    source: str              # rule, model, gazetteer, catalogue, manual
    reason: str
    category: str | None = None
    probability: float | None = None
    suggestions: tuple[Suggestion, ...] = ()
    places: tuple[str, ...] = ()
    second_opinion: bool = False   # the fast model was unsure and the second opinion was asked
    # The catalogue entry proposed: code, path, entry_id, level (3: its terms were found,
    # 1: the model's level 1 alone), the terms found.
    entry: dict[str, Any] | None = None

    @property
    def manual_triage(self) -> bool:
        return self.unit_code is None

    def as_dict(self) -> dict[str, Any]:
        # Spelled out: dataclasses.asdict's recursive copy was a measurable part of each intake.
        return {"unit_code": self.unit_code, "source": self.source, "reason": self.reason,
                "category": self.category, "probability": self.probability,
                "suggestions": [{"unit_code": s.unit_code, "category": s.category, "probability": s.probability,
                                 "source": s.source, "detail": s.detail} for s in self.suggestions],
                "places": list(self.places), "manual_triage": self.manual_triage,
                "second_opinion": self.second_opinion, "entry": self.entry}


@dataclass(frozen=True)
class Rule:
    """A city's explicit rule: any of these phrases in the text sends it to this unit."""

    phrases: tuple[str, ...]
    unit_code: str


class Gazetteer:
    """Place names -> township unit, found in one pass (Aho-Corasick), longest names first."""

    def __init__(self, places: dict[str, Sequence[str]]) -> None:
        self._automaton = ahocorasick.Automaton()
        for unit_code, names in places.items():
            for name in names:
                if len(name) >= 2:
                    self._automaton.add_word(name, (name, unit_code))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[tuple[str, str]]:
        """(place name, unit code) of each place named, in order, overlaps resolved to the longest."""
        if self._empty:
            return []
        hits = sorted(((end - len(name) + 1, end, name, code) for end, (name, code) in self._automaton.iter(text)),
                      key=lambda h: (h[0], -(h[1] - h[0])))
        found, covered_to = [], -1
        for start, end, name, code in hits:
            if start > covered_to:
                found.append((name, code))
                covered_to = end
        return found


@dataclass
class Router:
    city: City
    model: Predictor | None = None          # None while the model is still being trained
    rules: tuple[Rule, ...] = ()
    # None: the default of what routes (classifier.selective.routing_threshold), the fast
    # model's or the second opinion's.
    min_confidence: float | None = None
    # Asked only where the fast model is unsure (Reviser.asked): it is slow (e5, hundreds of
    # ms), so the confident majority never waits for it.
    second_opinion: Reviser | None = None
    catalogue: Catalogue | None = None       # None: units from the model's category alone
    # The level-3 model trained on the city's own resolved tickets (dispatch/entry_model.py),
    # once enough of them carry an entry: asked where the terms find nothing or are less sure.
    entry_model: EntryChooser | None = None
    gazetteer: Gazetteer = field(init=False)

    def __post_init__(self) -> None:
        self.gazetteer = Gazetteer(self.city.gazetteer)

    @property
    def threshold(self) -> float:
        """Below this routing probability a ticket goes to manual triage."""
        return routing_threshold(self.min_confidence, self.second_opinion)

    def route_many(self, texts: Sequence[str],
                   locations: Sequence[str | None] | None = None) -> list[RoutingAnswer]:
        """[route(text, location) for each], the model asked once for the texts that reach it
        (a model with predict_each, as classifier.TrainedModel has): requests that arrive
        together are classified together, at a fraction of the CPU a text."""
        where = list(locations) if locations is not None else [None] * len(texts)
        model = self.model
        predict_each = getattr(model, "predict_each", None)
        if model is None or predict_each is None or len(texts) < 2:
            return [self.route(text, location) for text, location in zip(texts, where)]
        answers = [self._answer_before_model(text) for text in texts]
        asked = [i for i, answer in enumerate(answers) if answer is None]
        for i, predictions in zip(asked, predict_each([texts[i] for i in asked], 3)):
            answers[i] = self._route_by_model(texts[i], predictions, where[i])
        return answers  # type: ignore[return-value]

    def route(self, text: str, location: str | None = None) -> RoutingAnswer:
        """`location`: where the citizen says it happened (事发地点), read for place names
        before the text, which may name a street after another township."""
        answer = self._answer_before_model(text)
        return answer if answer is not None else self._route_by_model(text, None, location)

    def places(self, text: str, location: str | None = None) -> list[tuple[str, str]]:
        """(place name, township unit) named in the location first, then in the text."""
        named = self.gazetteer.find(location) if location else []
        return named + [place for place in self.gazetteer.find(text) if place not in named]

    def _answer_before_model(self, text: str) -> RoutingAnswer | None:
        """The answer of the first rule with a phrase in the text, or of a text without
        content; None when the text goes to the model."""
        for rule in self.rules:
            phrase = next((p for p in rule.phrases if p in text), None)
            if phrase is not None:
                # An entry of another unit would bring its category and deadline class to a
                # ticket the rule sends elsewhere: the rule's ticket keeps an entry of its unit only.
                entry = self._entry(text, None, [])
                if entry is not None and entry["unit_code"] != rule.unit_code:
                    entry = None
                return RoutingAnswer(unit_code=rule.unit_code, source="rule", reason=ROUTED_BY_RULE_ZH.format(phrase=phrase),
                                     entry=entry)
        problem = content_problem(text)
        if problem is not None:
            return RoutingAnswer(unit_code=None, source="manual", reason=CONTENT_REASONS[problem])
        return None

    def _route_by_model(self, text: str, predictions: Sequence[Any] | None,
                        location: str | None = None) -> RoutingAnswer:
        """route() of a text that no rule takes and that has content; predictions: the
        model's predict(text, 3) when asked beforehand (route_many)."""
        places = self.places(text, location)
        if self.model is None:
            return RoutingAnswer(unit_code=None, source="manual", reason=MODEL_NOT_READY_ZH,
                                 entry=self._entry(text, None, places))
        if predictions is None:
            predictions = self.model.predict(text, 3)
        revised = False
        second, threshold = self.second_opinion, self.threshold
        if second is not None and second.asked(predictions[0].probability, threshold):
            predictions = second.revise(text, self.model.predict(text, ALL_LABELS), 3)
            revised = True
        suggestions = tuple(self._suggest(p.label, p.probability, places) for p in predictions)
        top = suggestions[0]
        match = self._match(text, top.category, foreign=True)
        entry = _entry_dict(match, places) if match is not None else None
        category = top.category
        if match is not None and match.found and match.item.level1 != top.category:
            if not self._sure(top):
                return self._foreign_entry(match, suggestions, predictions, places, revised, entry)
            # Sure of its own category, the model is right far more often than an entry of
            # another (README, "The dispatch catalogue"): it routes, with an entry of its own.
            match = self._match(text, top.category, foreign=False)
            entry = _entry_dict(match, places) if match is not None else None
        if match is not None and match.found:
            # The entry's unit takes the model's place: the model's probability is its category's,
            # and one category's unit listed twice at the same figure reads as two opinions.
            top = self._from_catalogue(match, top, places)
            suggestions = (top, *(s for s in suggestions
                                  if s.category != top.category and s.unit_code != top.unit_code))
            category = match.item.level1
        if not self._sure(top):
            return RoutingAnswer(unit_code=None, source="manual", suggestions=suggestions,
                                 places=tuple(n for n, _ in places), category=category,
                                 probability=top.probability, second_opinion=revised, entry=entry,
                                 reason=LOW_CONFIDENCE_ZH.format(probability=top.probability,
                                                                  threshold=self.threshold))
        return RoutingAnswer(unit_code=top.unit_code, source=top.source, reason=top.detail, category=category,
                             probability=top.probability, suggestions=suggestions,
                             places=tuple(n for n, _ in places), second_opinion=revised, entry=entry)

    def _match(self, text: str, level1: str | None, *, foreign: bool) -> Match | None:
        if self.catalogue is None:
            return None
        match = self.catalogue.match(text, level1, foreign=foreign)
        if self.entry_model is not None:
            match = self.entry_model.choose(text, level1, match, self.catalogue)
        return match

    def _sure(self, suggestion: Suggestion) -> bool:
        return suggestion.probability is not None and suggestion.probability >= self.threshold

    def _foreign_entry(self, match: Match, suggestions: tuple[Suggestion, ...], predictions: Sequence[Any],
                       places: list[tuple[str, str]], revised: bool, entry: dict[str, Any] | None) -> RoutingAnswer:
        """An unsure model, and an entry of another category (its terms outweighed the model's
        level 1): the operator decides. The model's suggestion comes first (out of sample it is
        the label more often), the entry's second, carrying the model's probability of its
        category (0 for one the model does not know): the model's own probability is for its
        category, not the entry's."""
        model = suggestions[0]
        entry_probability = next((float(p.probability) for p in predictions if p.label == match.item.level1), 0.0)
        from_entry = replace(self._from_catalogue(match, model, places), probability=entry_probability)
        ordered: dict[str, Suggestion] = {}
        for suggestion in (model, from_entry, *suggestions[1:]):   # one button a unit, the first kept
            ordered.setdefault(suggestion.unit_code, suggestion)
        return RoutingAnswer(unit_code=None, source="manual", suggestions=tuple(ordered.values()),
                             places=tuple(n for n, _ in places), category=model.category,
                             probability=model.probability, second_opinion=revised, entry=entry,
                             reason=ENTRY_DISAGREES_ZH.format(entry=match.item.level1, model=model.category))

    def _entry(self, text: str, level1: str | None, places: list[tuple[str, str]]) -> dict[str, Any] | None:
        match = self.catalogue.match(text, level1) if self.catalogue is not None else None
        return _entry_dict(match, places) if match is not None and match.found else None

    def _from_catalogue(self, match: Match, model: Suggestion, places: list[tuple[str, str]]) -> Suggestion:
        """The entry's unit, or the township named for a 属地 entry; the model's unit when
        the entry names none (属地 with no place and no unit to fall back on)."""
        unit, place = unit_for(match.item, places)
        found = (ENTRY_TERMS_ZH.format(terms=ENTRY_TERMS_JOINED_BY_ZH.join(match.terms[:3])) if match.terms
                 else ENTRY_MODEL_ZH.format(score=match.score))
        detail = BY_ENTRY_ZH.format(path=match.item.path, found=found, category=model.category,
                                    probability=model.probability)
        if place is not None:
            detail += BY_PLACE_ZH.format(place=place)
        if unit is None:
            return Suggestion(model.unit_code, match.item.level1, model.probability, model.source, detail)
        return Suggestion(unit, match.item.level1, model.probability, "catalogue", detail)

    def _suggest(self, category: str, probability: float, places: list[tuple[str, str]]) -> Suggestion:
        if category in self.city.local_categories and places:
            name, township = places[0]
            return Suggestion(township, category, probability, "gazetteer",
                              BY_MODEL_ZH.format(category=category, probability=probability)
                              + BY_PLACE_ZH.format(place=name))
        return Suggestion(self.city.categories[category], category, probability, "model",
                          BY_MODEL_ZH.format(category=category, probability=probability))


def _entry_dict(match: Match, places: list[tuple[str, str]]) -> dict[str, Any]:
    unit, place = unit_for(match.item, places)
    return {"code": match.item.code, "path": match.item.path, "level1": match.item.level1,
            "entry_id": match.item.entry_id, "level": match.level, "terms": list(match.terms),
            "unit_code": unit, "place": place, "source": match.source}


def city_router(city: City, model: Predictor | None = None, *,
                min_confidence: float | None = None, catalogue: Catalogue | None = None) -> Router:
    """A router with the city's own rules (load_city has checked them)."""
    return Router(city=city, model=model, rules=city_rules(city), min_confidence=min_confidence,
                  catalogue=catalogue)


def city_rules(city: City) -> tuple[Rule, ...]:
    return tuple(Rule(tuple(r["phrases"]), r["unit"]) for r in city.routing_rules)


def category_for_unit(city: City, unit_code: str, proposed: str | None) -> str | None:
    """The category an operator's final choice of unit teaches: the department's category,
    or for a township the proposed category when it is one they handle locally."""
    for category, code in city.categories.items():
        if code == unit_code:
            return category
    if any(u.code == unit_code and u.kind.value == "township" for u in city.units):
        if proposed in city.local_categories:
            return proposed
        return next(iter(sorted(city.local_categories)), None)
    return None


def record_correction(session: Session, city: City, ticket: Ticket, final_unit: Unit, *,
                      source: str, now: dt.datetime | None = None,
                      category: str | None = None) -> RoutingExample | None:
    """Keep the final unit of a re-routed ticket as a labeled example for retraining, when
    it differs from what routing proposed. One example per ticket: the latest correction wins.
    `category`: the level 1 of the catalogue entry the operator chose, the label when the
    classifier knows it (the unit alone says nothing for 供水, 燃气 and the like)."""
    proposal = ticket.routing or {}
    proposed = proposed_unit(proposal)
    if proposed == final_unit.code:
        return None
    label = category if category in city.categories else \
        category_for_unit(city, final_unit.code, proposal.get("category"))
    if label is None:
        return None
    example = session.scalar(select(RoutingExample).where(RoutingExample.ticket_id == ticket.id))
    if example is None:
        example = RoutingExample(ticket_id=ticket.id)
        session.add(example)
    example.title, example.body, example.label = ticket.title, ticket.body, label
    example.unit_code, example.proposed_unit_code = final_unit.code, proposed
    example.source, example.created_at = source, now or utcnow()
    ticket.category = label
    session.flush()
    return example


def proposed_unit(proposal: dict[str, Any]) -> str | None:
    """The unit a stored proposal named: the one it routed to, or for a ticket it left to
    manual triage its first suggestion (taking that is a confirmation, not a correction)."""
    if proposal.get("unit_code"):
        return str(proposal["unit_code"])
    suggestions = proposal.get("suggestions") or []
    return suggestions[0].get("unit_code") if suggestions else None


def corrections(session: Session) -> list[RoutingExample]:
    return list(session.scalars(select(RoutingExample).order_by(RoutingExample.id)))
