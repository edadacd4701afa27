"""create_app(settings): the Starlette app, built from explicit lists."""
from __future__ import annotations

import contextlib
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from web import api, sms
from web.classification import classifier_model
from web.config import Settings
from web.errors import HANDLERS
from web.live import LiveHub
from web.services import Services
from web.telephony import telephony

HOME = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>12345 政务服务便民热线</title></head>
<body><h1>12345 政务服务便民热线 · {city}</h1>
<p>市民来电、短信、网上留言统一受理，转办承办单位，按期办结，全程公开。</p>
<ul><li>提交诉求：<code>POST /api/v1/tickets</code></li>
<li>查询办理进度：<code>GET /api/v1/tickets/{{工单号}}?code={{查询码}}</code></li>
<li>办理情况统计：<a href="/api/v1/stats">/api/v1/stats</a></li></ul>
</body></html>"""


async def home(request: Request) -> HTMLResponse:
    services: Services = request.app.state.services
    return HTMLResponse(HOME.format(city=services.city.name))


def create_app(settings: Settings, services: Services | None = None, *, demo_pbx: bool = False) -> Starlette:
    """`demo_pbx` starts the AMI simulator when no real PBX is configured."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        built = services or Services.build(settings)
        app.state.services = built
        app.state.hub = LiveHub()
        try:
            async with classifier_model(built), \
                    telephony(built, app.state.hub, demo_pbx=demo_pbx) as bridge, \
                    sms.sms_channel(built) as sms_channel:
                app.state.bridge = bridge
                app.state.sms = sms_channel
                yield
        finally:
            if services is None:
                built.close()

    routes = [Route("/", home), *api.routes, *sms.routes]
    return Starlette(routes=routes, exception_handlers=HANDLERS, lifespan=lifespan)  # type: ignore[arg-type]
