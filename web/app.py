"""create_app(settings): the Starlette app, built from explicit lists."""
from __future__ import annotations

import contextlib
from typing import AsyncIterator

from starlette.applications import Starlette

from web import api, api_auth, api_staff, openapi, pages, scheduler, sms
from web.classification import classifier_model
from web.config import Settings
from web.errors import HANDLERS
from web.live import LiveHub
from web.services import Services
from web.telephony import telephony


def create_app(settings: Settings, services: Services | None = None, *, demo_pbx: bool = False) -> Starlette:
    """`demo_pbx` starts the AMI simulator when no real PBX is configured."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        built = services or Services.build(settings)
        app.state.services = built
        app.state.hub = LiveHub()
        try:
            await built.refresh_rules()
            async with classifier_model(built), \
                    telephony(built, app.state.hub, demo_pbx=demo_pbx) as bridge, \
                    sms.sms_channel(built) as sms_channel, \
                    pages.running(built, app.state.hub) as site, \
                    scheduler.running(built):
                app.state.bridge = bridge
                app.state.sms = sms_channel
                app.state.site = site
                yield
        finally:
            if services is None:
                built.close()

    routes = [*pages.routes, *api.routes, *api_auth.routes, *api_staff.routes, *openapi.routes, *sms.routes]
    return Starlette(routes=routes, exception_handlers=HANDLERS, lifespan=lifespan)  # type: ignore[arg-type]
