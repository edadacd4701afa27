"""Similar open tickets (重复件、多人反映): the same matter raised again, by anyone, on any
channel, in other words.

Score = cosine of character 2-3-gram TF-IDF vectors (robust to Chinese word boundaries and
to paraphrase), plus SAME_PLACE_BONUS when both texts name the same township or place and
SAME_CATEGORY_BONUS when both were classified alike; capped at 1. The candidates are the
open tickets received in the last `days`.

The IDF is that of the candidates at hand, so every call weighs all of them afresh. Grams are
hashed rather than collected in a vocabulary (whose sort cost seconds per call over a few
thousand tickets), and each text is read only to TEXT_CHARS characters: the title, repeated
first, and the start of the body say what a ticket is about. Measured in bench/similar.py.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier.features import message_text
from dispatch.clock import api_time, utcnow
from dispatch.gram_index import GramIndex
from dispatch.models import Ticket
from dispatch.states import FINISHED_STATES

SAME_PLACE_BONUS = 0.10
SAME_CATEGORY_BONUS = 0.05
MIN_SCORE = 0.25
MAX_CANDIDATES = 5000
TEXT_CHARS = 300
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)

# text -> the places it names (township unit codes or place names); none by default.
Places = Callable[[str], Iterable[str]]


@dataclass(frozen=True)
class SimilarTicket:
    number: str
    title: str
    state: str
    received_at: dt.datetime
    score: float
    text_score: float
    same_place: bool
    same_category: bool

    def as_dict(self) -> dict[str, object]:
        return {"number": self.number, "title": self.title, "state": self.state,
                "received_at": api_time(self.received_at), "score": round(self.score, 3),
                "text_score": round(self.text_score, 3), "same_place": self.same_place,
                "same_category": self.same_category}


def _clean(text: str) -> str:
    return _NOISE.sub(" ", text).strip()


def _start(text: str, chars: int | None) -> str:
    """_clean(text)[:chars], cleaning only the start when that is enough: each noise run
    becomes one space, so the cleaned start of a text is the start of the cleaned text."""
    if chars is None:
        return _clean(text)
    head = _clean(text[:2 * chars])
    return (head if len(head) >= chars or len(text) <= 2 * chars else _clean(text))[:chars]


def new_index(text_chars: int | None = TEXT_CHARS) -> GramIndex:
    """Where the gram counts of tickets are kept between calls (one per process: Services)."""
    return GramIndex(prepare=functools.partial(_start, chars=text_chars))


@dataclass(frozen=True)
class _Scores:
    order: np.ndarray           # candidate indices, best first (the asking ticket left out)
    score: np.ndarray
    text_score: np.ndarray
    same_place: np.ndarray
    same_category: np.ndarray


def _scores(query: str, candidates: list[tuple[str, str | None]], *, category: str | None, places: Places | None,
            text_chars: int | None, index: GramIndex | None, skip: int | None) -> _Scores | None:
    index = index or new_index(text_chars)
    if len(candidates) - (skip is not None) <= 0 or not index.prepare(query):
        return None
    cosines = index.cosines(query, [text for text, _ in candidates], skip=skip)
    if cosines is None:  # nothing but single characters and noise
        return None
    query_places = set(places(query)) if places else set()
    same_place = np.fromiter((bool(query_places & set(places(text))) for text, _ in candidates), dtype=bool,
                             count=len(candidates)) if places and query_places else np.zeros(len(candidates), bool)
    same_category = np.fromiter((category is not None and c == category for _, c in candidates), dtype=bool,
                                count=len(candidates))
    # The same float operations, in the same order, as one score at a time.
    score = np.minimum(1.0, cosines + SAME_PLACE_BONUS * same_place + SAME_CATEGORY_BONUS * same_category)
    order = np.argsort(-score, kind="stable")
    if skip is not None:
        order = order[order != skip]
    return _Scores(order, score, cosines, same_place, same_category)


def rank(query: str, candidates: list[tuple[str, str | None]], *, category: str | None = None,
         places: Places | None = None, text_chars: int | None = TEXT_CHARS, index: GramIndex | None = None,
         skip: int | None = None) -> list[tuple[int, float, float, bool, bool]]:
    """Score each candidate (text, category) against the query: (index, score, text score,
    same place, same category), best first. Pure, so the benchmark scores it directly. With an
    `index`, gram counts and the pool's matrix are kept there between calls (same figures).
    `skip` leaves one candidate out altogether (the asking ticket itself), so that the pool,
    and what the index keeps, is the same whichever of its tickets asks."""
    found = _scores(query, candidates, category=category, places=places, text_chars=text_chars, index=index,
                    skip=skip)
    if found is None:
        return []
    return [(int(i), float(found.score[i]), float(found.text_score[i]), bool(found.same_place[i]),
             bool(found.same_category[i])) for i in found.order]


def similar_open_tickets(session: Session, text: str, *, category: str | None = None,
                         exclude_id: int | None = None, days: int = 30, places: Places | None = None,
                         limit: int = 5, min_score: float = MIN_SCORE, now: dt.datetime | None = None,
                         index: GramIndex | None = None) -> list[SimilarTicket]:
    """Open tickets of the last `days` most like `text`, each with its score."""
    since = (now or utcnow()) - dt.timedelta(days=days)
    statement = (select(Ticket.id, Ticket.number, Ticket.title, Ticket.body, Ticket.state, Ticket.received_at,
                        Ticket.category)
                 .where(Ticket.received_at >= since, Ticket.state.not_in([s.value for s in FINISHED_STATES]))
                 .order_by(Ticket.received_at.desc()).limit(MAX_CANDIDATES))
    rows = list(session.execute(statement))
    skip = next((i for i, r in enumerate(rows) if r.id == exclude_id), None)
    scores = _scores(text, [(message_text(r.title, r.body), r.category) for r in rows], category=category,
                     places=places, text_chars=TEXT_CHARS, index=index, skip=skip)
    if scores is None:
        return []
    found: list[SimilarTicket] = []
    for i in scores.order:
        if scores.score[i] < min_score or len(found) == limit:
            break
        r = rows[i]
        found.append(SimilarTicket(r.number, r.title, r.state, r.received_at, float(scores.score[i]),
                                   float(scores.text_score[i]), bool(scores.same_place[i]),
                                   bool(scores.same_category[i])))
    return found


def similar_to_ticket(session: Session, ticket: Ticket, **options: object) -> list[SimilarTicket]:
    return similar_open_tickets(session, message_text(ticket.title, ticket.body), category=ticket.category,
                                exclude_id=ticket.id, **options)  # type: ignore[arg-type]
