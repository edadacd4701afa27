"""Liveness and readiness, for a load balancer, an orchestrator or a person at a terminal.

GET /healthz   200 while the process serves requests at all
GET /readyz    200 when it can do its job, 503 (with Retry-After) when not: the database
               reachable and writable, its schema at this code's newest migration, the
               classifier model not still loading, the PBX bridge connected (when one is
               configured and this process runs it: "off" or "elsewhere" otherwise), SMS on
               or off, the SMS spool empty or draining; "roles" names the one-process roles
               held here (web/leadership.py). Each check's detail (revisions, roles, reasons)
               goes to HOTLINE_METRICS_ALLOW addresses (loopback by default), the /metrics token
               or a staff API token, or to everyone with HOTLINE_READYZ_DETAIL=public; anyone
               else gets {"ready": ...} and the same status code, which is all a probe needs

A database that cannot take writes does not stop the hotline: it starts, logs the fault
loudly, answers /readyz 503 and serves what only reads (the board, status lookups) until
writes work again; every refused write answers 503 in Chinese (web/errors.py).
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch import api_tokens
from dispatch.db import check_writable, current_revision, head_revision
from dispatch.errors import Reason, StorageUnavailable
from web.messages import NOT_WRITABLE_AT_START, describe
from web.api_auth import bearer_token
from web.leadership import PBX_BRIDGE
from web.metrics import allowed as metrics_allowed
from web.services import Services

log = logging.getLogger(__name__)

# After a write was refused (a full disk shows only on a real write), stay not-ready this long.
REFUSED_WRITE_HOLD_SECONDS = 30.0


@dataclass
class Health:
    services: Services
    model_task: asyncio.Task[Any] | None = None
    bridge: Any = None  # callcenter.bridge.AmiBridge when the PBX is configured
    sms: Any = None  # web.sms.SmsChannel when SMS is on
    leadership: Any = None  # web.leadership.Leadership: the roles this process holds
    head: str | None = field(default_factory=head_revision)  # read once: it changes only with the code
    _refused: StorageUnavailable | None = None
    _refused_at: float = field(default=0.0)

    def write_failed(self, fault: StorageUnavailable) -> None:
        self._refused, self._refused_at = fault, time.monotonic()

    async def storage(self) -> StorageUnavailable | None:
        """The database's fault now, or None when it takes writes."""
        try:
            fault = await self.services.off_loop(check_writable, self.services.engine)
        except Exception as exc:  # unreachable in a way the driver did not classify
            fault = StorageUnavailable(Reason.UNREACHABLE, str(exc).splitlines()[0] if str(exc) else "")
        if fault is None and self._refused is not None:
            if time.monotonic() - self._refused_at < REFUSED_WRITE_HOLD_SECONDS:
                return self._refused
            self._refused = None
        return fault

    async def check_at_start(self) -> StorageUnavailable | None:
        fault = await self.storage()
        if fault is not None:
            log.error(NOT_WRITABLE_AT_START, fault.reason,
                      extra={"event": "database_not_writable", "reason": fault.reason, "detail": fault.detail})
        return fault

    def model_state(self) -> tuple[bool, str]:
        if self.services.router.model is not None:
            return True, "loaded"
        if self.model_task is not None and not self.model_task.done():
            return False, "loading"
        return True, "none"  # no model by choice or refused: tickets wait for manual triage

    async def migrations(self) -> dict[str, Any]:
        """The database's alembic revision against the newest this code ships: a database
        behind (or ahead, after a rollback of the code) is not served as ready."""
        try:
            current = await self.services.off_loop(current_revision, self.services.engine)
        except Exception:  # unreachable: the database check says why
            return {"ok": False, "current": None, "head": self.head}
        return {"ok": current == self.head, "current": current, "head": self.head}

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        checks: dict[str, Any] = {}
        fault = await self.storage()
        checks["database"] = ({"ok": True, "writable": True} if fault is None else
                              {"ok": False, "writable": False, "reason": fault.reason,
                               "message": describe(fault)})
        checks["migrations"] = await self.migrations()
        ok, state = self.model_state()
        checks["model"] = {"ok": ok, "state": state}
        if self.bridge is not None:
            checks["pbx"] = {"ok": bool(self.bridge.connected),
                             "state": "connected" if self.bridge.connected else "disconnected"}
        elif self.services.settings.ami is not None and self.leadership is not None \
                and not self.leadership.held.get(PBX_BRIDGE, True):
            checks["pbx"] = {"ok": True, "state": "elsewhere"}  # another process runs the bridge
        else:
            checks["pbx"] = {"ok": True, "state": "off"}
        checks["sms"] = {"ok": True, "state": "off" if self.sms is None else "on"}
        if self.sms is not None and self.sms.spool is not None:
            waiting = self.sms.spool.waiting()
            checks["sms_spool"] = {"ok": waiting == 0 or fault is None, "waiting": waiting}
        if self.leadership is not None:
            # Which of the one-process roles this process holds now (always ok: holding none
            # is normal when several processes serve one database).
            checks["roles"] = {"ok": True, "held": sorted(r for r, held in self.leadership.held.items() if held)}
        return all(c["ok"] for c in checks.values()), checks


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def shows_detail(request: Request) -> bool:
    """Whether this caller may read each check: the revisions, roles and fault reasons tell an
    outsider which version runs and what is failing, so they go to the operators' side only."""
    services: Services = request.app.state.services
    if services.settings.readyz_detail == "public" or metrics_allowed(request):
        return True
    raw = bearer_token(request)
    if raw is None:
        return False
    try:
        return await services.run(lambda s: api_tokens.authenticate(s, raw) is not None)
    except Exception:  # the database is down: the token cannot be checked, the status still can
        return False


async def readyz(request: Request) -> Response:
    health: Health | None = getattr(request.app.state, "health", None)
    if health is None:
        return JSONResponse({"ready": False, "checks": {}}, status_code=503, headers={"Retry-After": "5"})
    ready, checks = await health.readiness()
    body: dict[str, Any] = {"ready": ready, "checks": checks} if await shows_detail(request) else {"ready": ready}
    return JSONResponse(body, status_code=200 if ready else 503, headers=None if ready else {"Retry-After": "30"})


routes = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
