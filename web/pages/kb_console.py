"""The knowledge base on the operator console, at filing: answer the new ticket from the
article the operator picked (直接办结), or count the request as a knowledge base search, so
calls the base could not answer show up in the editors' gaps list."""
from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch import kb_use
from dispatch.actors import Actor
from dispatch.models import Ticket
from web.services import Services


def answer_or_count(session: Session, services: Services, ticket: Ticket, actor: Actor,
                    article_id: int | None) -> None:
    if article_id is not None:
        kb_use.answer_from_article(session, ticket, actor, article_id, min_chars=services.settings.reply_min_chars)
        return
    # The title (the operator's summary, or the start of the text): short, and what the
    # gaps list should read like.
    query = (ticket.title or ticket.body or "")[:kb_use.MAX_QUERY_CHARS]
    kb_use.search(session, services.kb_index, query, include_internal=True,
                  min_coverage=services.settings.kb_min_match, source="console")
