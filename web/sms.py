"""The SMS channel's routes (the provider's webhooks) and its outbox worker, wired from settings.

POST /sms/twilio          a citizen's text; answers TwiML
POST /sms/twilio/status   delivery status of a message we sent
POST /sms/aliyun/up       Alibaba Cloud's SmsUp push: citizens' texts (replies go by the outbox)
POST /sms/aliyun/report   Alibaba Cloud's SmsReport push: delivery receipts

Twilio's check X-Twilio-Signature first, Alibaba's the push token: a forged request gets
403 and nothing is stored. With no SMS settings the channel is off, and the routes of the
provider not chosen (HOTLINE_SMS_PROVIDER) answer 404.

A text arriving while the database refuses writes is kept in the spool (sms_gateway/spool.py)
and answered at once that it will be filed; a loop files the spool when writes work again.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sqlalchemy.exc import IntegrityError
from starlette.responses import JSONResponse

from dispatch import outbox
from dispatch.db import storage_fault
from dispatch.notifications import REPLY_SPOOLED, Throttle
from dispatch.numbers import whole_number
from sms_gateway import aliyun, conversation
from sms_gateway.sender import TwilioSender
from sms_gateway.spool import Spool
from sms_gateway.webhook import (
    MAX_FORM_BYTES,
    SIGNATURE_HEADER,
    InboundSms,
    InvalidWebhook,
    SignatureCheck,
    parse_form,
    parse_inbound,
    parse_status,
    twiml,
)
from sms_gateway.worker import OutboxWorker
from web.body_limit import read_body
from web.config import SmsSettings
from web.errors import BadRequest
from web.inputs import refuse_unstorable
from web.live import LiveHub
from web.media_fetcher import MediaFetcher, TwilioMedia
from web.messages import describe
from web.services import Services

log = logging.getLogger(__name__)
T = TypeVar("T")

INBOUND_PATH = "/sms/twilio"
STATUS_PATH = "/sms/twilio/status"
ALIYUN_UP_PATH = "/sms/aliyun/up"
ALIYUN_REPORT_PATH = "/sms/aliyun/report"
# The relay's topic that wakes the outbox sender (web/relay.py): a process that enqueued a
# text tells it after the commit, and the process holding the sender's role sends at once
# instead of at its next poll. With SQLite (one process, no relay) the local wake is all.
OUTBOX_TOPIC = "outbox"
# Told on that topic after a picture message is filed: the photos wait for the fetcher.
MEDIA_WAITING = "media"


@dataclass
class SmsChannel:
    signature: SignatureCheck | None  # Twilio's webhooks; None with Alibaba Cloud
    sender: TwilioSender | aliyun.AliyunSender
    worker: OutboxWorker
    throttle: Throttle
    spool: Spool | None = None
    provider: str = "twilio"
    push_token: str | None = None  # Alibaba Cloud's pushes
    media: MediaFetcher | None = None  # picture messages' photos (Twilio's MMS)

    @classmethod
    def build(cls, services: Services, settings: SmsSettings, *,
              policy: outbox.RetryPolicy | None = None, throttle: Throttle | None = None,
              tell_sender: Callable[[], None] | None = None) -> SmsChannel:
        """`tell_sender`: called after a commit that enqueued, beside waking this process's
        worker, to wake the sender wherever it runs."""
        signature: SignatureCheck | None = None
        sender: TwilioSender | aliyun.AliyunSender
        media: MediaFetcher | None = None
        if settings.aliyun is not None:
            ali = settings.aliyun
            sender = aliyun.AliyunSender(ali.access_key_id, ali.access_key_secret, ali.sign_name, ali.templates,
                                         endpoint=ali.endpoint)
            worker = OutboxWorker(services.sessions, sender, policy=policy)
        else:
            check = signature = SignatureCheck(settings.auth_token, settings.public_url)
            sender = TwilioSender(settings.account_sid, settings.auth_token, settings.from_number,
                                  api_base=settings.api_base)
            worker = OutboxWorker(services.sessions, sender, policy=policy,
                                  status_callback=lambda message_id: check.url_for(STATUS_PATH, f"id={message_id}"))
            media = MediaFetcher(services.sessions, TwilioMedia(settings.account_sid, str(settings.auth_token),
                                                                settings.api_base), services.attachment_limits)
        def enqueued() -> None:
            worker.wake()
            if tell_sender is not None:
                tell_sender()

        public_url = services.settings.public_url
        outbox.install(services.sessions, on_commit=enqueued, limits=services.settings.limits.sms,
                       status_url=public_url.rstrip("/") + "/status" if public_url else None)
        throttle = throttle or Throttle(max_messages=settings.throttle_max,
                                        window=dt.timedelta(minutes=settings.throttle_window_minutes))
        spool = Spool(settings.spool) if settings.spool is not None else None
        return cls(signature=signature, sender=sender, worker=worker, throttle=throttle, spool=spool,
                   provider=settings.provider, media=media,
                   push_token=str(settings.aliyun.push_token) if settings.aliyun is not None else None)


@contextlib.asynccontextmanager
async def sms_channel(services: Services, hub: LiveHub | None = None) -> AsyncIterator[SmsChannel | None]:
    """The channel for the app's lifespan: webhooks, the outbox hook and the spool; the worker
    sending the outbox runs apart (sending()). With a hub, a commit that enqueued tells the
    other processes (through its relay, after the commit), so the sender is woken wherever
    it runs."""
    settings = services.settings.sms
    if settings is None:
        log.info("SMS off: no SMS provider settings", extra={"event": "sms_off"})
        yield None
        return
    loop = asyncio.get_running_loop()

    def tell_sender() -> None:  # in the thread that committed; the hub lives on the loop
        with contextlib.suppress(RuntimeError):  # the loop closed at shutdown
            loop.call_soon_threadsafe(hub.tell_others, OUTBOX_TOPIC, {"what": "enqueued"})

    channel = SmsChannel.build(services, settings, tell_sender=tell_sender if hub is not None else None)
    drainer = asyncio.create_task(_drain_spool(services, channel, settings.spool_retry_seconds),
                                  name="sms-spool")
    try:
        yield channel
    finally:
        drainer.cancel()
        await asyncio.gather(drainer, return_exceptions=True)


@contextlib.asynccontextmanager
async def sending(channel: SmsChannel, hub: LiveHub | None = None) -> AsyncIterator[None]:
    """The outbox worker, run by the one process holding the sender's role (web/leadership.py);
    every process still enqueues, in the same transaction as the change it tells about, and
    tells the sender through the hub's relay (sms_channel())."""
    channel.worker.start()
    if channel.media is not None:
        channel.media.start()
    woken = asyncio.create_task(_wake_when_told(channel, hub), name="sms-wake") if hub else None
    try:
        yield
    finally:
        if woken is not None:
            woken.cancel()
            await asyncio.gather(woken, return_exceptions=True)
        await run_in_threadpool(channel.worker.stop)
        if channel.media is not None:
            await run_in_threadpool(channel.media.stop)


async def _wake_when_told(channel: SmsChannel, hub: LiveHub) -> None:
    async for message in hub.subscribe(OUTBOX_TOPIC):
        channel.worker.wake()
        if channel.media is not None and isinstance(message, dict) and message.get("what") == MEDIA_WAITING:
            channel.media.wake()


async def _drain_spool(services: Services, channel: SmsChannel, every: float) -> None:
    """File the spooled texts at start and then every few seconds, until writes work."""
    spool = channel.spool
    if spool is None:
        return
    while True:
        if await services.off_loop(spool.waiting):
            try:
                await asyncio.to_thread(spool.drain, lambda sms: conversation.file_spooled(
                    services.run_sync, sms, services.rules, channel.throttle, services.router,
                    services.settings.limits))
            except Exception as exc:  # still refused, or a bug: the texts stay in the spool
                fault = storage_fault(exc)
                if fault is None:
                    log.exception("filing spooled texts failed", extra={"event": "sms_spool_error"})
                else:
                    log.warning("spooled texts wait: the database still refuses writes",
                                extra={"event": "sms_spool_waiting", "reason": fault.reason})
        await asyncio.sleep(every)


async def _signed_form(request: Request, channel: SmsChannel):  # type: ignore[no-untyped-def]
    raw = await read_body(request, MAX_FORM_BYTES)   # before the signature: it covers the form
    try:
        form = parse_form(raw)
        refuse_unstorable(form.multi_items())
    except InvalidWebhook as exc:
        return None, PlainTextResponse(str(exc), status_code=400)
    except BadRequest as exc:
        return None, PlainTextResponse(describe(exc), status_code=400)
    if channel.signature is None or not channel.signature.valid(request.url.path, request.url.query, form,
                                   request.headers.get(SIGNATURE_HEADER)):
        log.warning("twilio webhook refused: bad or missing signature",
                    extra={"event": "sms_forged", "path": request.url.path,
                           "client": request.client.host if request.client else None})
        return None, PlainTextResponse("invalid signature", status_code=403)
    return form, None


def _channel(request: Request) -> SmsChannel | None:
    return getattr(request.app.state, "sms", None)


async def _verified(request: Request, parse: Callable[[Any], T]) -> tuple[SmsChannel, T] | Response:
    """The SMS channel and the webhook's parsed form, or the response refusing it (SMS off,
    forged, malformed)."""
    channel = _channel(request)
    if channel is None or channel.provider != "twilio":
        return PlainTextResponse("SMS is not configured", status_code=404)
    form, refused = await _signed_form(request, channel)
    if refused is not None:
        return refused
    try:
        return channel, parse(form)
    except InvalidWebhook as exc:
        return PlainTextResponse(str(exc), status_code=400)


async def inbound(request: Request) -> Response:
    verified = await _verified(request, parse_inbound)
    if isinstance(verified, Response):
        return verified
    channel, sms = verified
    services: Services = request.app.state.services
    try:
        reply = await services.off_loop(conversation.answer_once, services.run_sync, sms, services.rules,
                                        channel.throttle, services.router, services.settings.limits)
    except Exception as exc:
        fault = storage_fault(exc)
        if fault is None:
            raise
        kept = channel.spool is not None and await asyncio.to_thread(channel.spool.keep, sms)
        if not kept:
            raise fault from exc  # 503: nothing else holds the text now
        health = getattr(request.app.state, "health", None)
        if health is not None:
            health.write_failed(fault)
        reply = REPLY_SPOOLED
    if sms.media_urls:
        _photos_waiting(request, channel)
    return Response(twiml(reply), media_type="application/xml")


def _photos_waiting(request: Request, channel: SmsChannel) -> None:
    """Wake the photos' fetcher here, and wherever the sender's role runs (web/relay.py);
    without a relay its poll finds them within seconds all the same."""
    if channel.media is not None:
        channel.media.wake()
    hub: LiveHub | None = getattr(request.app.state, "hub", None)
    if hub is not None:
        hub.tell_others(OUTBOX_TOPIC, {"what": MEDIA_WAITING})


async def status_callback(request: Request) -> Response:
    verified = await _verified(request, parse_status)
    if isinstance(verified, Response):
        return verified
    _, update = verified
    raw_id = request.query_params.get("id", "")
    outbox_id = whole_number(raw_id)
    services: Services = request.app.state.services
    await services.run(lambda session: outbox.apply_delivery_status(
        session, provider_sid=update.message_sid, status=update.status, error_code=update.error_code,
        outbox_id=outbox_id))
    return Response(status_code=204)


# ---- Alibaba Cloud's HTTP batch push --------------------------------------------------

async def _aliyun_push(request: Request, parse: Callable[[bytes], T]) -> tuple[SmsChannel, T] | Response:
    """The SMS channel and the push's parsed items, or the response refusing it."""
    channel = _channel(request)
    if channel is None or channel.provider != "aliyun" or channel.push_token is None:
        return PlainTextResponse("SMS is not configured", status_code=404)
    if not aliyun.push_token_valid(channel.push_token, request.query_params.get("token")):
        log.warning("aliyun push refused: bad or missing token",
                    extra={"event": "sms_forged", "path": request.url.path,
                           "client": request.client.host if request.client else None})
        return PlainTextResponse("invalid token", status_code=403)
    try:
        return channel, parse(await request.body())
    except InvalidWebhook as exc:
        return PlainTextResponse(str(exc), status_code=400)


async def aliyun_up(request: Request) -> Response:
    """Citizens' texts: each through the same conversation as Twilio's, its reply queued in
    the outbox in the same transaction (Alibaba's push takes no reply). A text pushed again
    is found in the log and neither filed nor answered twice."""
    verified = await _aliyun_push(request, aliyun.parse_texts)
    if isinstance(verified, Response):
        return verified
    channel, texts = verified
    try:
        refuse_unstorable(("content", sms.body) for sms in texts)
    except BadRequest as exc:
        return PlainTextResponse(describe(exc), status_code=400)
    services: Services = request.app.state.services
    for sms in texts:
        await _file_pushed(services, channel, sms)
    return JSONResponse(aliyun.PUSH_ACCEPTED)


async def _file_pushed(services: Services, channel: SmsChannel, sms: InboundSms) -> None:
    def file() -> str | None:
        return conversation.file_spooled(services.run_sync, sms, services.rules, channel.throttle, services.router,
                                         services.settings.limits)
    try:
        try:
            await services.off_loop(file)
        except IntegrityError:  # the same text pushed twice at once: the other one filed it
            await services.off_loop(file)
    except Exception as exc:
        fault = storage_fault(exc)
        if fault is None:
            raise
        kept = channel.spool is not None and await asyncio.to_thread(channel.spool.keep, sms)
        if not kept:
            raise fault from exc  # 503: Alibaba pushes again later


async def aliyun_report(request: Request) -> Response:
    verified = await _aliyun_push(request, aliyun.parse_reports)
    if isinstance(verified, Response):
        return verified
    _, receipts = verified
    services: Services = request.app.state.services

    def record(session):  # type: ignore[no-untyped-def]
        for receipt in receipts:
            outbox.apply_delivery_status(session, provider_sid=receipt.update.message_sid,
                                         status=receipt.update.status, error_code=receipt.update.error_code,
                                         outbox_id=receipt.out_id)
    await services.run(record)
    return JSONResponse(aliyun.PUSH_ACCEPTED)


routes = [Route(INBOUND_PATH, inbound, methods=["POST"]),
          Route(STATUS_PATH, status_callback, methods=["POST"]),
          Route(ALIYUN_UP_PATH, aliyun_up, methods=["POST"]),
          Route(ALIYUN_REPORT_PATH, aliyun_report, methods=["POST"])]
