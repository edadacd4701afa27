"""Twilio's webhooks at the boundary: check the signature, parse the form into typed values,
write TwiML. A Twilio form never travels past this module."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from urllib.parse import parse_qsl

from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_FORM_BYTES = 64 * 1024
MAX_MEDIA, MAX_MEDIA_URL = 10, 500  # Twilio sends at most 10 media per message


class InvalidWebhook(Exception):
    """Not a well-formed Twilio request (the route answers 400)."""


def parse_form(raw: bytes) -> FormData:
    if len(raw) > MAX_FORM_BYTES:
        raise InvalidWebhook("form too large")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InvalidWebhook("form is not UTF-8") from None
    return FormData(pairs)


class SignatureCheck:
    """X-Twilio-Signature over the URL Twilio called and the POSTed fields.

    The URL is the hotline's public one (behind a proxy the request's own host and scheme
    differ). The AccountSid in the form proves nothing: anyone can read it off a request.
    """

    def __init__(self, auth_token: str, public_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._base = public_url.rstrip("/")

    def url_for(self, path: str, query: str = "") -> str:
        return self._base + path + (f"?{query}" if query else "")

    def valid(self, path: str, query: str, form: FormData, signature: str | None) -> bool:
        if not signature:
            return False
        return bool(self._validator.validate(self.url_for(path, query), form, signature))


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    sender: str
    to: str
    body: str
    num_media: int = 0
    media_urls: tuple[str, ...] = ()
    # MediaContentTypeN as declared, beside each URL: logged only, the bytes say what a file is.
    media_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusUpdate:
    message_sid: str
    status: str
    error_code: str | None


def _required(form: Mapping[str, str], name: str) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise InvalidWebhook(f"{name} missing")
    return value


def parse_inbound(form: FormData) -> InboundSms:
    # SmsMessageSid is the older name Twilio still sends alongside MessageSid.
    sid = (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()
    if not sid:
        raise InvalidWebhook("MessageSid missing")
    try:
        media = int(form.get("NumMedia") or 0)
    except ValueError:
        media = 0
    given = [(str(form.get(f"MediaUrl{i}") or "").strip(), str(form.get(f"MediaContentType{i}") or "").strip())
             for i in range(min(media, MAX_MEDIA))]
    given = [(url[:MAX_MEDIA_URL], kind[:100]) for url, kind in given if url]
    return InboundSms(message_sid=sid[:64], sender=_required(form, "From")[:40], to=(form.get("To") or "")[:40],
                      body=str(form.get("Body") or ""), num_media=media,
                      media_urls=tuple(url for url, _ in given), media_types=tuple(kind for _, kind in given))


def parse_status(form: FormData) -> StatusUpdate:
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or not status:
        raise InvalidWebhook("MessageSid or MessageStatus missing")
    code = (form.get("ErrorCode") or "").strip() or None
    return StatusUpdate(message_sid=sid[:64], status=status[:20], error_code=code[:10] if code else None)


def twiml(reply: str | None) -> str:
    """The answer Twilio texts back; an empty <Response/> sends nothing."""
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return str(response)
