"""Alibaba Cloud SMS (阿里云短信, Dysmsapi 2017-05-25) at the boundary: sending through the
official SDK, and the HTTP batch pushes (SmsReport receipts, SmsUp texts) parsed into the
same typed values as Twilio's webhooks. An Alibaba payload never travels past this module.

Alibaba sends by approved template: the sign name (签名) is added by the carrier and the
text is the template filled with our variables (dispatch/notifications.TEMPLATES).

The push is not signed by Alibaba (its documented format carries no signature): it is
checked by a secret token that is part of the URL registered in the console (push_token_valid).
"""
from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from dispatch.clock import CHINA
from dispatch.errors import InvalidInput
from dispatch.outbox import RECONCILED_PREFIX
from dispatch.numbers import whole_number
from dispatch.phone import normalise_phone
from sms_gateway.sender import SendError, Submitted
from sms_gateway.webhook import InboundSms, InvalidWebhook, StatusUpdate

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"
TIMEOUT_MS = 15_000
MAX_PUSH_BYTES = 256 * 1024
# Codes that say this message can never go as it is; others (limits, system errors) may pass later.
PERMANENT_CODES = frozenset({
    "isv.MOBILE_NUMBER_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS", "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL", "isv.INVALID_PARAMETERS", "isv.PARAM_LENGTH_LIMIT", "isv.INVALID_JSON_PARAM",
    "isv.PARAM_NOT_SUPPORT_URL", "isv.SMS_CONTENT_ILLEGAL", "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.MOBILE_COUNT_OVER_LIMIT", "isv.TEMPLATE_PARAMS_ILLEGAL", "isv.SMS_SIGN_ILLEGAL",
    "isv.SMS_TEMPLATE_PARAMS_ILLEGAL", "isv.ACCOUNT_NOT_EXISTS", "isv.ACCOUNT_ABNORMAL",
})
# QuerySendDetails' SendStatus: 1 waiting for the carrier's receipt, 2 failed, 3 delivered.
SEND_STATUS = {1: "sent", 2: "undelivered", 3: "delivered"}


@dataclass(frozen=True)
class Endpoint:
    host: str
    protocol: str  # "HTTPS", or "HTTP" for the local stand-in


def parse_endpoint(raw: str | None) -> Endpoint:
    """'dysmsapi.aliyuncs.com' (HTTPS), or a URL such as 'http://127.0.0.1:18701' (the stand-in)."""
    raw = (raw or DEFAULT_ENDPOINT).strip()
    if "://" not in raw:
        return Endpoint(host=raw, protocol="HTTPS")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an endpoint: {raw!r}")
    return Endpoint(host=parts.netloc, protocol=parts.scheme.upper())


def national_number(phone: str) -> str:
    """Alibaba wants a mainland mobile without +86, and others as country code + number."""
    if phone.startswith("+86"):
        return phone[3:]
    return phone.lstrip("+")


def e164(number: str) -> str:
    try:
        return normalise_phone(number)
    except InvalidInput:
        return number.strip()


class AliyunSender:
    """SendSms with the sign name and the kind's template; one instance is shared by the
    worker's thread."""

    def __init__(self, access_key_id: str, access_key_secret: str, sign_name: str,
                 templates: Mapping[str, str], *, endpoint: str | None = None, timeout_ms: int = TIMEOUT_MS) -> None:
        # The SDK is imported here: `hotline --help` and Twilio deployments never load it.
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        where = parse_endpoint(endpoint)
        self._client = Client(Config(access_key_id=access_key_id, access_key_secret=access_key_secret,
                                     endpoint=where.host, protocol=where.protocol, region_id="cn-hangzhou",
                                     read_timeout=timeout_ms, connect_timeout=timeout_ms))
        self.sign_name = sign_name
        self.templates = dict(templates)

    def send(self, to: str, body: str, status_callback: str | None = None, *, kind: str = "",
             params: dict[str, str] | None = None, out_id: str | None = None) -> Submitted:
        """Receipts come by the push configured in Alibaba's console: status_callback is unused."""
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest

        template = self.templates.get(kind)
        if not template:
            raise SendError(f"no Alibaba Cloud template code for texts of kind {kind!r}", permanent=True)
        request = SendSmsRequest(phone_numbers=national_number(to), sign_name=self.sign_name,
                                 template_code=template, out_id=out_id,
                                 template_param=json.dumps(params or {}, ensure_ascii=False))
        try:
            answer = self._client.send_sms(request).body
        except Exception as exc:
            raise _as_send_error(exc) from exc
        if answer.code != "OK":
            raise SendError(f"{answer.code}: {answer.message}", permanent=answer.code in PERMANENT_CODES)
        return Submitted(sid=str(answer.biz_id), status="queued")

    def find_earlier(self, to: str, body: str, since: dt.datetime, *,
                     out_id: str | None = None) -> Submitted | None:
        """QuerySendDetails for `to` on the days since `since` (China time): a message carrying
        our OutId went out already. Raises SendError when Alibaba cannot be asked, so the
        caller does not resend blindly."""
        from alibabacloud_dysmsapi20170525.models import QuerySendDetailsRequest

        if out_id is None:
            return None
        first = since.astimezone(CHINA).date()
        today = dt.datetime.now(CHINA).date()
        day = first
        while day <= today:
            request = QuerySendDetailsRequest(phone_number=national_number(to), send_date=day.strftime("%Y%m%d"),
                                              page_size=50, current_page=1)
            try:
                answer = self._client.query_send_details(request).body
            except Exception as exc:
                raise _as_send_error(exc) from exc
            if answer.code != "OK":
                raise SendError(f"QuerySendDetails {answer.code}: {answer.message}", permanent=False)
            details = answer.sms_send_detail_dtos.sms_send_detail_dto if answer.sms_send_detail_dtos else None
            for detail in details or []:
                if detail.out_id == out_id:
                    return Submitted(sid=RECONCILED_PREFIX + out_id, status=SEND_STATUS.get(detail.send_status or 1))
            day += dt.timedelta(days=1)
        return None


def _as_send_error(exc: Exception) -> SendError:
    status = getattr(exc, "statusCode", None)
    code = getattr(exc, "code", None)
    if isinstance(status, int):
        # A 4xx is our request (a wrong key, a bad signature): it will not pass by waiting.
        permanent = 400 <= status < 500 and status != 429 and code != "Throttling"
        return SendError(f"HTTP {status} {code}: {getattr(exc, 'message', exc)}", permanent=permanent)
    return SendError(f"{type(exc).__name__}: {exc}", permanent=False)


# ---- the HTTP batch push ----------------------------------------------------------------

def push_token_valid(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def _items(raw: bytes) -> list[Mapping[str, Any]]:
    if len(raw) > MAX_PUSH_BYTES:
        raise InvalidWebhook("push too large")
    try:
        items = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidWebhook("push is not JSON") from None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidWebhook("push is not a JSON array of objects")
    return items


@dataclass(frozen=True)
class Receipt:
    update: StatusUpdate
    out_id: int | None


def parse_reports(raw: bytes) -> list[Receipt]:
    """SmsReport: [{phone_number, send_time, report_time, success, err_code, err_msg,
    sms_size, biz_id, out_id}, ...]."""
    receipts = []
    for item in _items(raw):
        biz_id = str(item.get("biz_id") or "").strip()
        if not biz_id or "success" not in item:
            raise InvalidWebhook("biz_id or success missing")
        code = str(item.get("err_code") or "").strip()
        delivered = item.get("success") is True or str(item.get("success")).lower() == "true"
        out_id = str(item.get("out_id") or "").strip()
        receipts.append(Receipt(
            update=StatusUpdate(message_sid=biz_id[:64], status="delivered" if delivered else "undelivered",
                                error_code=None if delivered or not code else code[:10]),
            out_id=whole_number(out_id)))
    return receipts


def parse_texts(raw: bytes) -> list[InboundSms]:
    """SmsUp: [{phone_number, send_time, content, sign_name, dest_code, sequence_id}, ...].
    The sequence id names the text, as Twilio's MessageSid does: a repeated push is answered
    from the log."""
    texts = []
    for item in _items(raw):
        phone = str(item.get("phone_number") or "").strip()
        sequence = str(item.get("sequence_id") or "").strip()
        if not phone or not sequence:
            raise InvalidWebhook("phone_number or sequence_id missing")
        texts.append(InboundSms(message_sid=f"aliyun-{sequence}"[:64], sender=e164(phone)[:40],
                                to=str(item.get("dest_code") or "")[:40], body=str(item.get("content") or "")))
    return texts


# What Alibaba expects back: code 0 is taken; an HTTP status other than 200 makes it push again.
PUSH_ACCEPTED = {"code": 0, "msg": "接收成功"}
