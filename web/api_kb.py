"""GET /api/v1/kb?q=TEXT: the knowledge base's published articles for a question, best
first. Anyone gets the public ones; a staff bearer token also sees the internal ones. A
wrong token is refused rather than quietly treated as anonymous."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dispatch import api_tokens, kb_use, limits
from dispatch.errors import Reason
from web.api_auth import bearer_token
from web.auth import client_key, load_identity
from web.errors import BadRequest, Unauthorized
from web.services import Services

MAX_QUERY_CHARS = 200
MAX_LIMIT = 20


def hit_json(hit: Any) -> dict[str, Any]:
    return {"id": hit.article_id, "title": hit.title, "score": hit.score, "snippet": hit.snippet,
            "version": hit.version, "public": hit.public, "url": f"/kb/{hit.article_id}"}


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit") or "5"
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest("limit", Reason.OUT_OF_RANGE, low=1, high=MAX_LIMIT)
    return int(raw)


async def search(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    query = (request.query_params.get("q") or "").strip()
    if not query:
        raise BadRequest("q", Reason.REQUIRED)
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest("q", Reason.TOO_LONG, limit=MAX_QUERY_CHARS)
    limit = _limit(request)
    raw, client = bearer_token(request), client_key(request)

    def work(session: Session) -> list[dict[str, Any]] | None:
        staff = False
        if raw is not None:
            found = api_tokens.authenticate(session, raw)
            if found is None or load_identity(session, found.user_id) is None:
                return None
            staff = True
        # Anyone's search is answered; a citizen's is recorded for the gap list up to their
        # address's share (a staff token's always is).
        recorded = staff or limits.kb_search_recorded(session, services.settings.limits, client)
        result = kb_use.search(session, services.kb_index, query, include_internal=staff, limit=limit,
                               min_coverage=services.settings.kb_min_match, source="api" if recorded else None)
        return [hit_json(h) for h in result.hits]

    results = await services.run(work)
    if results is None:
        raise Unauthorized(Reason.TOKEN_INVALID)
    return JSONResponse({"results": results})


routes = [Route("/api/v1/kb", search, methods=["GET"])]
