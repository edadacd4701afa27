"""create_app(settings): the Starlette app, built from explicit lists."""
from __future__ import annotations

import contextlib
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware

from dispatch.db import storage_fault
from web import api, api_auth, api_staff, health, metrics, openapi, pages, scheduler, sms
from web.classification import classifier_model
from web.config import Settings
from web.errors import HANDLERS
from web.inputs import InputGuard
from web.live import LiveHub
from web.services import Services
from web.telephony import telephony


def create_app(settings: Settings, services: Services | None = None, *, demo_pbx: bool = False) -> Starlette:
    """`demo_pbx` starts the AMI simulator when no real PBX is configured."""
    counted = metrics.Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        built = services or Services.build(settings)
        app.state.services = built
        app.state.hub = LiveHub()
        app.state.metrics = counted
        try:
            app.state.health = checks = health.Health(built)
            await checks.check_at_start()  # a read-only or full database: start, but not ready
            try:
                await built.refresh_rules()
            except Exception as exc:  # an unreachable database: start anyway, not ready
                if storage_fault(exc) is None:
                    raise
            async with classifier_model(built) as model_task, \
                    telephony(built, app.state.hub, demo_pbx=demo_pbx) as bridge, \
                    sms.sms_channel(built) as sms_channel, \
                    pages.running(built, app.state.hub) as site, \
                    scheduler.running(built):
                app.state.bridge = bridge
                app.state.sms = sms_channel
                app.state.site = site
                checks.model_task, checks.bridge, checks.sms = model_task, bridge, sms_channel
                counted.ami.bridge = bridge
                held = {"pbx_bridge": bridge is not None, "scheduler": True, "outbox_sender": sms_channel is not None}
                for role, runs in held.items():
                    counted.hold(role, runs)
                try:
                    yield
                finally:
                    counted.ami.bridge = None
                    for role in held:
                        counted.hold(role, False)
        finally:
            if services is None:
                built.close()

    routes = [*health.routes, *metrics.routes, *pages.routes, *api.routes, *api_auth.routes, *api_staff.routes, *openapi.routes,
              *sms.routes]
    return Starlette(routes=routes, exception_handlers=HANDLERS, lifespan=lifespan,  # type: ignore[arg-type]
                     middleware=[Middleware(metrics.RequestMetrics, metrics=counted), Middleware(InputGuard)])
