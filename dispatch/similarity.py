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
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier.features import message_text
from dispatch.clock import utcnow
from dispatch.models import Ticket
from dispatch.states import FINISHED_STATES

SAME_PLACE_BONUS = 0.10
SAME_CATEGORY_BONUS = 0.05
MIN_SCORE = 0.25
MAX_CANDIDATES = 5000
TEXT_CHARS = 300
_GRAMS = HashingVectorizer(analyzer="char", ngram_range=(2, 3), alternate_sign=False, norm=None,
                           n_features=2**20)
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
                "received_at": self.received_at.isoformat(), "score": round(self.score, 3),
                "text_score": round(self.text_score, 3), "same_place": self.same_place,
                "same_category": self.same_category}


def _clean(text: str) -> str:
    return _NOISE.sub(" ", text).strip()


def rank(query: str, candidates: list[tuple[str, str | None]], *, category: str | None = None,
         places: Places | None = None, text_chars: int | None = TEXT_CHARS
         ) -> list[tuple[int, float, float, bool, bool]]:
    """Score each candidate (text, category) against the query: (index, score, text score,
    same place, same category), best first. Pure, so the benchmark scores it directly."""
    texts = [_clean(query)[:text_chars]] + [_clean(text)[:text_chars] for text, _ in candidates]
    if not candidates or not texts[0]:
        return []
    counts = _GRAMS.transform(texts)
    if counts.nnz == 0:  # nothing but single characters and noise
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


def similar_open_tickets(session: Session, text: str, *, category: str | None = None,
                         exclude_id: int | None = None, days: int = 30, places: Places | None = None,
                         limit: int = 5, min_score: float = MIN_SCORE,
                         now: dt.datetime | None = None) -> list[SimilarTicket]:
    """Open tickets of the last `days` most like `text`, each with its score."""
    since = (now or utcnow()) - dt.timedelta(days=days)
    statement = (select(Ticket.id, Ticket.number, Ticket.title, Ticket.body, Ticket.state, Ticket.received_at,
                        Ticket.category)
                 .where(Ticket.received_at >= since, Ticket.state.not_in([s.value for s in FINISHED_STATES]))
                 .order_by(Ticket.received_at.desc()).limit(MAX_CANDIDATES))
    rows = [row for row in session.execute(statement) if row.id != exclude_id]
    ranked = rank(text, [(message_text(r.title, r.body), r.category) for r in rows], category=category,
                  places=places)
    found = []
    for i, score, text_score, same_place, same_category in ranked:
        if score < min_score or len(found) == limit:
            break
        r = rows[i]
        found.append(SimilarTicket(r.number, r.title, r.state, r.received_at, score, text_score,
                                   same_place, same_category))
    return found


def similar_to_ticket(session: Session, ticket: Ticket, **options: object) -> list[SimilarTicket]:
    return similar_open_tickets(session, message_text(ticket.title, ticket.body), category=ticket.category,
                                exclude_id=ticket.id, **options)  # type: ignore[arg-type]
