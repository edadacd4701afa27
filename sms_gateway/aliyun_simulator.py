"""A local stand-in for Alibaba Cloud SMS (Dysmsapi 2017-05-25), so the SMS loop runs on one
machine with the official SDK pointed at it (HOTLINE_ALIYUN_ENDPOINT=http://127.0.0.1:PORT).

It answers the RPC-style actions SendSms and QuerySendDetails as Alibaba does, after checking
the request's signature: ACS3-HMAC-SHA256 in the Authorization header (what the current SDK
sends), or the older Signature query parameter (HMAC-SHA1). A message is checked against
the approved sign name and templates and filled in; then the carrier's receipt is pushed
to the hotline's SmsReport URL as Alibaba's HTTP batch push does (a JSON array).

For a person at the keyboard, POST /sim/inbound (From, Body) pushes a citizen's text to the
hotline's SmsUp URL; GET /sim/messages lists what was sent.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Mapping
from urllib.parse import parse_qsl, quote

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch.clock import CHINA
from dispatch.notifications import provider_templates

log = logging.getLogger(__name__)

# Credentials, sign name and template codes the stand-in and `serve --demo` agree on.
DEMO_ACCESS_KEY_ID = "LTAI" + "0" * 20
DEMO_ACCESS_KEY_SECRET = "aliyun-sim-secret"
DEMO_SIGN_NAME = "12345"
DEMO_PUSH_TOKEN = "aliyun-sim-push-token"
_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
_INTERNATIONAL = re.compile(r"[1-9]\d{6,14}")
_VARIABLE = re.compile(r"\$\{(\w+)\}")
MAX_CLOCK_SKEW = dt.timedelta(minutes=15)


def demo_template_codes() -> dict[str, str]:
    """Each kind of text -> the template code the stand-in approved for it."""
    return {kind: f"SMS_{9000 + i}" for i, kind in enumerate(sorted(provider_templates()))}


def demo_templates() -> dict[str, str]:
    """Template code -> template text, as approved in the stand-in's console."""
    texts = provider_templates()
    return {code: texts[kind] for kind, code in demo_template_codes().items()}


@dataclass
class SimSms:
    biz_id: str
    phone: str
    sign_name: str
    template_code: str
    params: dict[str, str]
    content: str
    out_id: str | None
    sent_at: dt.datetime
    send_status: int = 1  # 1 waiting for the receipt, 2 failed, 3 delivered
    err_code: str = ""

    def detail(self) -> dict[str, Any]:
        local = self.sent_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        return {"PhoneNum": self.phone, "SendStatus": self.send_status, "ErrCode": self.err_code,
                "TemplateCode": self.template_code, "Content": self.content, "SendDate": local,
                "ReceiveDate": local if self.send_status != 1 else "", "OutId": self.out_id or ""}


@dataclass
class AliyunSimulator:
    access_key_id: str = DEMO_ACCESS_KEY_ID
    access_key_secret: str = DEMO_ACCESS_KEY_SECRET
    sign_name: str = DEMO_SIGN_NAME
    templates: dict[str, str] = field(default_factory=demo_templates)
    report_delay: float = 0.05
    url: str | None = None
    # The hotline's push URLs (with their token), as registered in Alibaba's console.
    report_url: str | None = None
    up_url: str | None = None
    messages: list[SimSms] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (action, params) in order
    pushes: list[dict[str, Any]] = field(default_factory=list)
    undeliverable: set[str] = field(default_factory=set)
    _failures: deque[tuple[int, str, str]] = field(default_factory=deque)
    _nonces: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _client: httpx.AsyncClient | None = None
    _sequence: int = 1000

    def fail_next(self, code: str = "isp.SYSTEM_ERROR", *, http_status: int = 200, message: str = "simulated",
                  times: int = 1) -> None:
        """The next `times` SendSms requests are refused with this code."""
        with self._lock:
            self._failures.extend([(http_status, code, message)] * times)

    def sent_to(self, phone: str) -> list[SimSms]:
        with self._lock:
            return [m for m in self.messages if m.phone == phone]

    def actions(self) -> list[str]:
        with self._lock:
            return [action for action, _ in self.requests]

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            async with httpx.AsyncClient(timeout=10.0) as client:
                self._client = client
                yield

        return Starlette(routes=[
            Route("/", self._api, methods=["GET", "POST"]),
            Route("/sim/messages", self._show, methods=["GET"]),
            Route("/sim/inbound", self._inbound, methods=["POST"]),
        ], lifespan=lifespan)

    # ---- the API --------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse({"Code": code, "Message": message, "RequestId": str(uuid.uuid4()).upper()},
                            status_code=status)

    async def _api(self, request: Request) -> Response:
        body = await request.body()
        query = dict(parse_qsl(request.url.query, keep_blank_values=True))
        params = {**query, **dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))} \
            if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded") else query
        refused = self._check_signature(request, query, params, body)
        if refused is not None:
            return refused
        action = request.headers.get("x-acs-action") or params.get("Action") or ""
        with self._lock:
            self.requests.append((action, params))
        if action == "SendSms":
            return await self._send(params)
        if action == "QuerySendDetails":
            return self._query(params)
        return self._error(404, "InvalidAction.NotFound", f"Specified api is not found: {action}")

    def _check_signature(self, request: Request, query: Mapping[str, str], params: Mapping[str, str],
                         body: bytes) -> Response | None:
        if "Signature" in params:
            return self._check_v2(request.method, params)
        header = request.headers.get("authorization", "")
        found = re.fullmatch(r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)",
                             header)
        if found is None:
            return self._error(400, "MissingSignature", "the request is not signed")
        key_id, signed, signature = found.groups()
        if not hmac.compare_digest(key_id, self.access_key_id):
            return self._error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        payload_hash = hashlib.sha256(body).hexdigest()
        if request.headers.get("x-acs-content-sha256") != payload_hash:
            return self._error(400, "SignatureDoesNotMatch", "the body does not match x-acs-content-sha256")
        fresh = self._fresh(request.headers.get("x-acs-date"), request.headers.get("x-acs-signature-nonce"))
        if fresh is not None:
            return fresh
        names = signed.split(";")
        canonical_headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in names)
        canonical_query = "&".join(f"{k}={quote(query[k], safe='~')}" for k in sorted(query))
        canonical = "\n".join([request.method, request.url.path or "/", canonical_query, canonical_headers,
                               signed, payload_hash])
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(self.access_key_secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return self._error(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
        return None

    def _check_v2(self, method: str, params: Mapping[str, str]) -> Response | None:
        """The RPC signature of the older SDKs: HMAC-SHA1 over the sorted parameters."""
        if params.get("AccessKeyId") != self.access_key_id:
            return self._error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        fresh = self._fresh(params.get("Timestamp"), params.get("SignatureNonce"))
        if fresh is not None:
            return fresh
        pairs = "&".join(f"{_pct(k)}={_pct(params[k])}" for k in sorted(params) if k != "Signature")
        to_sign = f"{method}&{_pct('/')}&{_pct(pairs)}"
        expected = base64.b64encode(hmac.new(f"{self.access_key_secret}&".encode(), to_sign.encode(),
                                             hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expected, params["Signature"]):
            return self._error(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
        return None

    def _fresh(self, stamp: str | None, nonce: str | None) -> Response | None:
        """A signed request is good once, near its own time."""
        try:
            when = dt.datetime.strptime(stamp or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        except ValueError:
            return self._error(400, "InvalidTimeStamp.Format", "the timestamp is missing or malformed")
        if abs(dt.datetime.now(dt.timezone.utc) - when) > MAX_CLOCK_SKEW:
            return self._error(400, "InvalidTimeStamp.Expired", "the timestamp is too far from now")
        with self._lock:
            if not nonce or nonce in self._nonces:
                return self._error(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces.add(nonce)
        return None

    async def _send(self, params: Mapping[str, str]) -> Response:
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return self._error(*failure)
        phone = params.get("PhoneNumbers", "")
        if not (_MAINLAND_MOBILE.fullmatch(phone) or _INTERNATIONAL.fullmatch(phone)):
            return self._error(200, "isv.MOBILE_NUMBER_ILLEGAL", f"invalid mobile number {phone}")
        if params.get("SignName") != self.sign_name:
            return self._error(200, "isv.SMS_SIGNATURE_ILLEGAL", "the sign name is not approved")
        template = self.templates.get(params.get("TemplateCode", ""))
        if template is None:
            return self._error(200, "isv.SMS_TEMPLATE_ILLEGAL", "the template is not approved")
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return self._error(200, "isv.INVALID_JSON_PARAM", "TemplateParam is not JSON")
        missing = [name for name in _VARIABLE.findall(template) if not isinstance(values.get(name), str)]
        if missing:
            return self._error(200, "isv.TEMPLATE_MISSING_PARAMETERS", f"missing: {', '.join(missing)}")
        content = f"【{self.sign_name}】" + _VARIABLE.sub(lambda m: values[m.group(1)], template)
        message = SimSms(biz_id=f"{secrets.randbelow(10**15):015d}^0", phone=phone, sign_name=self.sign_name,
                         template_code=params["TemplateCode"], params=values, content=content,
                         out_id=params.get("OutId") or None, sent_at=dt.datetime.now(dt.timezone.utc))
        with self._lock:
            self.messages.append(message)
        log.info("aliyun sim: message accepted", extra={"event": "sim_message", "biz_id": message.biz_id})
        task = BackgroundTask(self._report, message)
        return JSONResponse({"Code": "OK", "Message": "OK", "BizId": message.biz_id,
                             "RequestId": str(uuid.uuid4()).upper()}, background=task)

    def _query(self, params: Mapping[str, str]) -> Response:
        phone, day, biz_id = params.get("PhoneNumber", ""), params.get("SendDate", ""), params.get("BizId")
        if not phone or not re.fullmatch(r"\d{8}", day):
            return self._error(200, "isv.INVALID_PARAMETERS", "PhoneNumber and SendDate are required")
        size = min(int(params.get("PageSize") or 10), 50)
        page = max(int(params.get("CurrentPage") or 1), 1)
        with self._lock:
            found = [m for m in self.messages if m.phone == phone
                     and m.sent_at.astimezone(CHINA).strftime("%Y%m%d") == day and biz_id in (None, m.biz_id)]
        shown = found[(page - 1) * size:page * size]
        return JSONResponse({"Code": "OK", "Message": "OK", "RequestId": str(uuid.uuid4()).upper(),
                             "TotalCount": len(found),
                             "SmsSendDetailDTOs": {"SmsSendDetailDTO": [m.detail() for m in shown]}})

    async def _report(self, message: SimSms) -> None:
        """The carrier's receipt, pushed as Alibaba's SmsReport."""
        await asyncio.sleep(self.report_delay)
        delivered = message.phone not in self.undeliverable
        message.send_status, message.err_code = (3, "DELIVERED") if delivered else (2, "MK:0001")
        if not self.report_url:
            return
        stamp = message.sent_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        now = dt.datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        await self._push(self.report_url, [{
            "phone_number": message.phone, "send_time": stamp, "report_time": now, "success": delivered,
            "err_code": message.err_code, "err_msg": "用户接收成功" if delivered else "用户接收失败",
            "sms_size": "1", "biz_id": message.biz_id, "out_id": message.out_id or ""}])

    async def _push(self, url: str, items: list[dict[str, Any]]) -> httpx.Response | None:
        assert self._client is not None, "the simulator app's lifespan has not started"
        try:
            response = await self._client.post(url, content=json.dumps(items, ensure_ascii=False).encode(),
                                                headers={"content-type": "application/json"})
        except httpx.HTTPError as exc:
            log.warning("aliyun sim: push failed", extra={"event": "sim_callback_error", "error": str(exc)})
            return None
        with self._lock:
            self.pushes.append({"url": url, "items": items, "status": response.status_code})
        return response

    # ---- for a person trying it out -----------------------------------------------------------

    async def _show(self, _request: Request) -> Response:
        with self._lock:
            return JSONResponse([{"biz_id": m.biz_id, "phone": m.phone, "template": m.template_code,
                                  "content": m.content, "status": m.send_status, "out_id": m.out_id}
                                 for m in self.messages])

    async def _inbound(self, request: Request) -> Response:
        """Text the hotline as a citizen: form fields From (a mainland mobile) and Body."""
        if not self.up_url:
            return self._error(404, "NoPushUrl", "no SmsUp URL configured")
        form = await request.form()
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
        phone = str(form.get("From") or "13800000000").removeprefix("+86")
        response = await self.push_text(phone, str(form.get("Body") or ""), sequence)
        if response is None:
            return self._error(502, "NoAnswer", "the hotline did not answer")
        return Response(response.text, status_code=response.status_code,
                        media_type=response.headers.get("content-type"))

    async def push_text(self, phone: str, content: str, sequence: int) -> httpx.Response | None:
        """A citizen's text, pushed as Alibaba's SmsUp."""
        now = dt.datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        return await self._push(str(self.up_url), [{
            "phone_number": phone, "send_time": now, "content": content, "sign_name": self.sign_name,
            "dest_code": "1234", "sequence_id": sequence}])


def _pct(value: str) -> str:
    return quote(value, safe="~")
