"""create_app(settings): the Starlette app, built from explicit lists."""
from __future__ import annotations

import asyncio
import anyio
import contextlib
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from dispatch.db import checkpoint, storage_fault
from dispatch import webhooks
from web import (api, api_auth, api_calls, api_catalogue, api_kb, api_reply_templates, api_shift_handover, api_staff, api_supervision, health, metrics, open311, openapi, pages,
                 scheduler, sms, webhook_sender)
from web.body_limit import BodyLimit, photo_forms_limit
from web.classification import classifier_model
from web.config import Settings
from web.errors import HANDLERS
from web.inputs import InputGuard
from web.leadership import OUTBOX_SENDER, PBX_BRIDGE, SCHEDULER, WEBHOOK_SENDER, Leadership
from web.live import LiveHub
from web.relay import relaying
from web.placed_calls import PlacedCalls
from web.remote_bridge import RemoteBridge
from web.security_headers import SecurityHeaders
from web.upload_gate import UploadGate
from web.services import Services
from web.config_changes import following_changes
from web.telephony import answering_bridge


class _Site(Starlette):
    """Starlette with SecurityHeaders outside everything: middleware given to Starlette sits
    inside its ServerErrorMiddleware, whose 500 page would go out without them."""

    https = False  # HOTLINE_PUBLIC_URL is https: Strict-Transport-Security on every answer

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), https=self.https)


def create_app(settings: Settings, services: Services | None = None, *, demo_pbx: bool = False) -> Starlette:
    """`demo_pbx` starts the AMI simulator when no real PBX is configured."""
    counted = metrics.Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        built = services or Services.build(settings)
        app.state.services = built
        app.state.hub = LiveHub()
        app.state.metrics = counted
        stack = contextlib.AsyncExitStack()
        try:
            app.state.health = checks = health.Health(built)
            await checks.check_at_start()  # a read-only or full database: start, but not ready
            try:
                await built.refresh_rules()
                await built.refresh_catalogue()
            except Exception as exc:  # an unreachable database: start anyway, not ready
                if storage_fault(exc) is None:
                    raise
            app.state.leadership = leadership = Leadership(built.engine, on_change=counted.hold)
            checks.leadership = leadership

            if metrics.shared_folder():  # several workers: the bridge's holder shares its AMI counts
                copying = asyncio.create_task(counted.ami.syncing(), name="ami-metrics")
                stack.callback(copying.cancel)
            relay = await stack.enter_async_context(relaying(built.engine, app.state.hub))
            await stack.enter_async_context(following_changes(built, app.state.hub))
            pbx_on = built.settings.ami is not None or demo_pbx
            # Call buttons on a process without the bridge ask the one with it.
            app.state.remote_bridge = RemoteBridge(relay) if relay is not None and pbx_on else None

            @contextlib.asynccontextmanager
            async def bridge_role() -> AsyncIterator[None]:
                async with answering_bridge(built, app.state.hub, relay, demo_pbx=demo_pbx) as bridge:
                    app.state.bridge = checks.bridge = counted.ami.bridge = bridge
                    try:
                        yield
                    finally:
                        app.state.bridge = checks.bridge = counted.ami.bridge = None

            app.state.bridge = None
            # Calls the console placed without waiting: ended before the bridge's stack closes.
            app.state.placed_calls = placed = PlacedCalls()
            stack.push_async_callback(placed.close)
            # Every process writes webhook deliveries with the changes; one sends them.
            app.state.webhooks = hooks = webhook_sender.WebhookSender(
                built.sessions, allow_private=built.settings.webhook_allow_private)
            webhooks.install(built.sessions, on_commit=hooks.wake, public_url=built.settings.public_url)
            # One process alone runs the bridge, the outbox sender and the scheduler
            # (web/leadership.py); every process serves pages and takes webhooks.
            async with classifier_model(built) as model_task, \
                    sms.sms_channel(built, app.state.hub) as sms_channel, \
                    leadership.role(PBX_BRIDGE, bridge_role) if pbx_on else contextlib.nullcontext(), \
                    leadership.role(OUTBOX_SENDER, lambda: sms.sending(sms_channel, app.state.hub)) if sms_channel \
                    else contextlib.nullcontext(), \
                    leadership.role(WEBHOOK_SENDER, lambda: webhook_sender.sending(hooks)), \
                    pages.running(built, app.state.hub) as site, \
                    leadership.role(SCHEDULER, lambda: scheduler.running(built)):
                app.state.sms = sms_channel
                app.state.site = site
                checks.model_task, checks.sms = model_task, sms_channel
                yield
        finally:
            hooks = getattr(app.state, "webhooks", None)
            if hooks is not None:
                hooks.close()
            await stack.aclose()
            await anyio.to_thread.run_sync(checkpoint, built.engine)
            if services is None:
                built.close()

    routes = [*health.routes, *metrics.routes, *pages.routes, *api.routes, *api_auth.routes, *api_calls.routes, *api_kb.routes, *api_staff.routes, *api_reply_templates.routes, *api_shift_handover.routes, *api_catalogue.routes, *api_supervision.routes,
              *openapi.routes,
              *sms.routes, *open311.routes]
    app = _Site(routes=routes, exception_handlers=HANDLERS, lifespan=lifespan,  # type: ignore[arg-type]
                middleware=[Middleware(metrics.RequestMetrics, metrics=counted),
                            Middleware(BodyLimit, wider=photo_forms_limit(settings.attachments_per_ticket,
                                                                          settings.attachment_max_bytes)),
                            Middleware(InputGuard)])
    app.https = settings.secure_cookies
    app.state.upload_gate = UploadGate()   # the citizen's forms with photos (web/upload_gate.py)
    return app


def from_environment() -> Starlette:
    """The app built from HOTLINE_* alone: what each of uvicorn's worker processes runs under
    `hotline serve --workers N` (the parent migrated the database before starting them)."""
    from web import logs

    settings = Settings.from_env()
    logs.configure(settings.log_level)
    return create_app(settings)
