"""The Idempotency-Key header on the POSTs that file a ticket (POST /api/v1/tickets, Open311's
POST requests): the first answer is kept with the key, and a retry with the same key and body
gets it again (marked Idempotent-Replayed: true). The rules are dispatch/idempotency.py's."""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from dispatch import idempotency
from web.services import Services

log = logging.getLogger(__name__)
REPLAYED = "Idempotent-Replayed"


async def once(request: Request, services: Services, scope_of: Callable[[Session], str], fields: Any,
               work: Callable[[], Awaitable[Response]]) -> Response:
    """`work`'s answer, or with an Idempotency-Key the first answer to that key. `scope_of`:
    whose key it is, read in the database (it refuses a caller who may not make the request)."""
    key = idempotency.checked_key(request.headers.get(idempotency.HEADER))
    if key is None:
        return await work()
    print_ = idempotency.fingerprint(request.url.path, fields)

    def claim(session: Session) -> tuple[str, idempotency.Answer | None]:
        scope = scope_of(session)
        return scope, idempotency.claim(session, scope, key, print_)

    scope, first = await services.run(claim)
    if first is not None:
        return Response(first.body, status_code=first.status, headers={"content-type": first.media_type,
                                                                       REPLAYED: "true"})
    try:
        response = await work()
    except BaseException:
        try:
            await services.run(lambda session: idempotency.release(session, scope, key))
        except Exception:   # the work's own error is the one to answer with; the claim goes stale
            log.exception("idempotency key not released", extra={"event": "idempotency_release_error"})
        raise
    answer = idempotency.Answer(response.status_code, response.headers.get("content-type", ""),
                                bytes(response.body).decode("utf-8"))
    await services.run(lambda session: idempotency.record(session, scope, key, answer))
    return response
