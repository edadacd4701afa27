"""The knowledge base at work: a ticket answered from an article (直接办结, the article
cited in the reply and in the event), searches counted (those without a useful result are
the gaps in the base), deflections (a citizen found the answer and did not file), and the
figures the supervisor reads. Nothing here commits."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import kb, lifecycle
from dispatch.actors import Actor
from dispatch.clock import local_date, utcnow
from dispatch.errors import InvalidInput, Reason
from dispatch.kb_search import KbIndexCache, Result
from dispatch.kb_text import plain_text
from dispatch.masking import mask_text
from dispatch.models import KbArticle, KbDeflection, KbSearch, Ticket, TicketEvent
from dispatch.replies import REPLY_MIN_CHARS
from dispatch.reports import Period
from dispatch.states import Action, State
from dispatch.vocabulary import ARTICLE_CONTINUES_ZH, INTERNAL_ANSWER_ZH

MAX_QUERY_CHARS = 200


def answer_from_article(session: Session, ticket: Ticket, actor: Actor, article_id: int, *,
                        note: str | None = None, now: dt.datetime | None = None,
                        expected_version: int | None = None, min_chars: int = REPLY_MIN_CHARS) -> TicketEvent:
    """直接办结 from a published, valid article. The citizen's reply is what they were told:
    a public article's answer under its title, as plain text (its Markdown removed); an internal one's words stay inside. The
    event keeps which article and version (staff see it, the figures count answers by
    article from there)."""
    now = now or utcnow()
    article = kb.get_article(session, article_id)
    text = kb.published_text(session, article)
    if text is None or not kb.offered(text, local_date(now)):
        raise InvalidInput("article", Reason.ARTICLE_NOT_OFFERED, article_id=article_id)
    note = (note or "").strip()
    if text.public:
        # Plain text: the reply is read on /status, in the API and in a text message, where
        # Markdown's marks would show as they are. An article may be longer than a reply
        # holds: its beginning, and where to read it all.
        room = lifecycle.MAX_NOTE_CHARS - len(text.title) - len(note) - 60
        body = plain_text(text.body)
        if len(body) > room:
            body = body[:max(0, room)].rstrip() + ARTICLE_CONTINUES_ZH.format(article_id=article.id)
        reply = f"《{text.title}》\n{body}"
    else:
        reply = INTERNAL_ANSWER_ZH
    if note:
        reply += "\n" + note
    return lifecycle.answer(session, ticket, actor, reply, now=now, expected_version=expected_version,
                            cited={"article_id": article.id, "article_version": text.version}, min_chars=min_chars)


def search(session: Session, cache: KbIndexCache, query: str, *, include_internal: bool = False,
           min_coverage: float = 0.5, limit: int = 5, source: str | None = None,
           now: dt.datetime | None = None) -> Result:
    """Published articles in their validity, best first; counted when `source` is given."""
    now = now or utcnow()
    result = cache.current(session).search(query, today=local_date(now), include_internal=include_internal,
                                           limit=limit, min_coverage=min_coverage)
    if source is not None:
        record_search(session, source, result, now=now)
    return result


def record_search(session: Session, source: str, result: Result, *, now: dt.datetime | None = None) -> None:
    """Kept for the gap list supervisors read: masked as public texts are, since a citizen
    may type their phone or ID number into the search box."""
    query = mask_text(" ".join(result.query.split())[:MAX_QUERY_CHARS])
    if not query:
        return
    session.add(KbSearch(at=now or utcnow(), source=source, query=query, results=len(result.hits),
                         top_article_id=result.hits[0].article_id if result.hits else None, useful=result.useful))


def record_deflection(session: Session, article_id: int, query: str | None, *, now: dt.datetime | None = None) -> None:
    """这解决了我的问题: the citizen read a public article and did not file."""
    article = kb.get_article(session, article_id)
    text = kb.published_text(session, article)
    if text is None or not text.public:
        raise InvalidInput("article", Reason.ARTICLE_NOT_OFFERED, article_id=article_id)
    session.add(KbDeflection(article_id=article.id, at=now or utcnow(),
                             query=mask_text(" ".join((query or "").split())[:MAX_QUERY_CHARS]) or None))


def _masked_gaps(rows: Sequence[Any]) -> list[tuple[str, int, dt.datetime]]:
    """The gap list's queries masked (searches recorded before queries were masked on the
    way in), those that read alike after it counted together, most asked first."""
    merged: dict[str, tuple[int, dt.datetime]] = {}
    for query, searches, last_at in rows:
        shown = mask_text(query)
        before = merged.get(shown)
        merged[shown] = (searches, last_at) if before is None else (before[0] + searches, max(before[1], last_at))
    return sorted(((q, n, at) for q, (n, at) in merged.items()), key=lambda row: (-row[1], -row[2].timestamp()))


# -- figures --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArticleUse:
    article_id: int
    title: str
    answers: int
    rate: float | None        # answers citing it / tickets received
    deflections: int


@dataclass(frozen=True)
class Gap:
    query: str
    searches: int
    last_at: dt.datetime


@dataclass(frozen=True)
class KbFigures:
    received: int
    answered: int
    answered_from_articles: int
    articles_used: int
    searches: int
    searches_without_answer: int
    deflections: int
    by_article: tuple[ArticleUse, ...]
    gaps: tuple[Gap, ...]
    stale: tuple[KbArticle, ...]

    @property
    def direct_answer_rate(self) -> float | None:
        return self.answered / self.received if self.received else None

    @property
    def article_answer_rate(self) -> float | None:
        return self.answered_from_articles / self.received if self.received else None


def figures(session: Session, period: Period, *, today: dt.date | None = None, gaps: int = 30) -> KbFigures:
    """For tickets received in the period: direct answer rate overall and by article;
    articles used; searches in the period without a useful result (grouped, most asked
    first); published articles past their review date now."""
    start, end = period.start, period.end
    # A duplicate merged into another ticket counts once, in its main ticket, as on the
    # dashboard (dispatch/rollup.py).
    received = session.scalar(select(func.count(Ticket.id)).where(Ticket.received_at >= start,
                                                                  Ticket.received_at < end,
                                                                  Ticket.state != State.MERGED.value)) or 0
    answers = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.data).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.action == Action.ANSWER.value, Ticket.received_at >= start, Ticket.received_at < end)).all()
    answered_tickets = {ticket_id for ticket_id, _ in answers}
    by_article: Counter[int] = Counter()
    for ticket_id, data in answers:
        article_id = (data or {}).get("article_id")
        if isinstance(article_id, int):
            by_article[article_id] += 1
    deflected = Counter(dict(session.execute(
        select(KbDeflection.article_id, func.count(KbDeflection.id))
        .where(KbDeflection.at >= start, KbDeflection.at < end).group_by(KbDeflection.article_id)).all()))
    ids = set(by_article) | set(deflected)
    titles = dict(session.execute(select(KbArticle.id, KbArticle.title).where(KbArticle.id.in_(ids))).all()) if ids else {}
    uses = sorted((ArticleUse(a, titles.get(a, f"KB-{a}"), by_article[a], by_article[a] / received if received else None,
                              deflected[a]) for a in ids), key=lambda u: (-u.answers, -u.deflections, u.article_id))
    searches = session.scalar(select(func.count(KbSearch.id)).where(KbSearch.at >= start, KbSearch.at < end)) or 0
    gap_rows = session.execute(
        select(KbSearch.query, func.count(KbSearch.id), func.max(KbSearch.at))
        .where(KbSearch.at >= start, KbSearch.at < end, KbSearch.useful.is_(False))
        .group_by(KbSearch.query).order_by(func.count(KbSearch.id).desc(), func.max(KbSearch.at).desc())).all()
    gap_rows = _masked_gaps(gap_rows)
    return KbFigures(
        received=received, answered=len(answered_tickets), answered_from_articles=sum(by_article.values()),
        articles_used=len(by_article), searches=searches,
        searches_without_answer=sum(n for _, n, _ in gap_rows), deflections=sum(deflected.values()),
        by_article=tuple(uses), gaps=tuple(Gap(q, n, at) for q, n, at in gap_rows[:gaps]),
        stale=tuple(kb.stale(session, today or local_date(utcnow()))))
