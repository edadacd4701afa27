"""Repeat calls (重复来电): a caller who rings again about a matter they raised before, in other
words. Intake joins a repeat by itself only when the words are the same (dispatch.intake,
within the repeat window); this proposes the caller's earlier open ticket when the words
differ but say the same thing, for the operator to 合并 (the merge action, its rules and
events): nothing is joined without them.

What counts as a repeat: a ticket of the same number, received in the last `days`, still open
(not answered, resolved, closed, invalid, merged or handed over), whose text scores at least
REPEAT_MIN_SCORE against the new words. Only that caller's own open tickets are read (the
phone and received_at index), a handful of comparisons.

The score is the cosine of character 2-3-gram vectors with sublinear term frequencies (no
IDF: among a caller's two or three tickets there is no pool to weigh grams by, and an IDF
taken from the shipped classifier data did worse on the paraphrases below). Words of Chinese
need no segmenting this way, and a paraphrase keeps the names of places and things.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from dispatch import actions
from dispatch.actors import Actor
from dispatch.clock import api_time, utcnow
from dispatch.errors import InvalidInput, Reason
from dispatch.gram_index import GRAMS
from dispatch.models import Ticket
from dispatch.phone import normalise_phone
from dispatch.similarity import TEXT_CHARS, _start
from dispatch.states import FINISHED_STATES

# Chosen on bench/data/similar_paraphrases.jsonl (126 hand-written rewordings of a ticket, and
# 186 same-kind near misses: the same problem at another place, or another problem at the
# same place): the highest value that still finds 90% of the rewordings (0.905; 0.18 finds
# 0.786, 0.20 only 0.683), at a precision of 0.740 against those hard near misses. Unrelated
# tickets rarely reach it: 0.019% of dev.csv's pairs from different dup_groups, while all 504
# pairs within one group do. A proposal costs the operator a glance, a missed one a duplicate
# ticket. Figures: bench/repeats.py, README.
REPEAT_MIN_SCORE = 0.15
DEFAULT_REPEAT_DAYS = 30
# A caller with more open tickets than this is a campaign or a business: the newest are enough.
MAX_CANDIDATES = 50
FIELD = "merge_into"


@dataclass(frozen=True)
class RepeatProposal:
    """The caller's earlier open ticket the new words may repeat, and how alike they are."""
    number: str
    title: str
    state: str
    received_at: dt.datetime
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "title": self.title, "state": self.state,
                "received_at": api_time(self.received_at), "score": round(self.score, 3)}


def repeat_text(title: str | None, body: str) -> str:
    """What a ticket says, for comparing: its title once (not the start of the body again when
    the title was taken from it; the classifier's text repeats the title, which would make two
    tickets filed without a title look alike by their first words alone), then the body."""
    title = (title or "").strip()
    if not title or body.startswith(title.rstrip("…")):
        return body
    return f"{title}。{body}"


def gram_rows(texts: Sequence[str]) -> sp.csr_matrix:
    """Each text's character 2-3-gram vector (sublinear counts), l2-normalised: the repeat
    score of two texts is the dot product of their rows."""
    matrix = GRAMS.transform([_start(t, TEXT_CHARS) for t in texts]).tocsr()
    matrix.data = 1 + np.log(matrix.data)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (sp.diags(1 / norms) @ matrix).tocsr()


def scores(query: str, texts: Sequence[str]) -> list[float]:
    """The repeat score of the query with each text (0 for a text with no gram in common)."""
    if not texts:
        return []
    unit = gram_rows([query, *texts])
    return [float(x) for x in (unit[1:] @ unit[0].T).toarray().ravel()]


_OPEN_OF_CALLER = (
    select(Ticket.id, Ticket.number, Ticket.title, Ticket.body, Ticket.state, Ticket.received_at)
    .where(Ticket.phone == bindparam("phone"), Ticket.received_at >= bindparam("since"),
           Ticket.received_at <= bindparam("until"), Ticket.state.not_in([s.value for s in FINISHED_STATES]))
    .order_by(Ticket.received_at.desc()).limit(MAX_CANDIDATES)
)


def repeat_proposals(session: Session, phone: str | None, text: str, *, days: int = DEFAULT_REPEAT_DAYS,
                     now: dt.datetime | None = None, exclude_id: int | None = None, limit: int = 3,
                     min_score: float = REPEAT_MIN_SCORE) -> list[RepeatProposal]:
    """The caller's open tickets of the last `days` (up to `now`) that `text` may repeat, best
    first. `text` as repeat_text() makes it; `phone` as typed (any spelling normalise_phone
    reads; none or not a number: none)."""
    try:
        phone = normalise_phone(phone) if phone and phone.strip() else None
    except InvalidInput:
        return []
    if phone is None or not text.strip():
        return []
    now = now or utcnow()
    rows = [r for r in session.execute(_OPEN_OF_CALLER, {"phone": phone, "since": now - dt.timedelta(days=days),
                                                         "until": now}) if r.id != exclude_id]
    found = [RepeatProposal(r.number, r.title, r.state, r.received_at, score)
             for r, score in zip(rows, scores(text, [repeat_text(r.title, r.body) for r in rows]))
             if score >= min_score]
    return sorted(found, key=lambda p: -p.score)[:limit]


def repeats_of_ticket(session: Session, ticket: Ticket, *, days: int = DEFAULT_REPEAT_DAYS) -> list[RepeatProposal]:
    """The same caller's earlier open tickets this one may repeat: what it could be merged into."""
    return repeat_proposals(session, ticket.phone, repeat_text(ticket.title, ticket.body), days=days,
                            now=ticket.received_at, exclude_id=ticket.id)


def merge_filed(session: Session, actor: Actor, ticket: Ticket, into_number: str,
                context: actions.ActionContext) -> None:
    """受理并并入: merge the ticket just filed into its caller's open ticket `into_number`, as
    the ticket page's 合并 posts it (dispatch.actions: the same checks and events). Only into
    an open ticket of the same number: the console offers no other, and a number typed into
    the form must not pull a stranger's ticket in."""
    into = session.scalar(select(Ticket).where(Ticket.number == into_number))
    if into is None or into.phone != ticket.phone or into.id == ticket.id or into.state in {
            s.value for s in FINISHED_STATES}:
        raise InvalidInput(FIELD, Reason.NOT_CALLERS_OPEN_TICKET, number=into_number)
    actions.perform(session, actor, ticket.number, "merge", {"into": into.number, "expected_version": ticket.version},
                    context)
