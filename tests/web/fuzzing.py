"""Seeded generators of hostile requests for the public entry points, shared by
tests/web/test_fuzz.py (a few hundred each) and bench/fuzz.py (thousands, on a real server).

Each generator returns a FuzzRequest: method, path with its raw (already percent-encoded)
query, and a raw body. Values mix ordinary Chinese text with what broke the app before:
dates near year 1 and 9999, NUL, lone surrogates, digits that are not ASCII, deep JSON.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import quote, quote_plus

NASTY = [
    "", " ", "\x00", "a\x00b", "\ud800", "\udfff", "x\udc80y", "\ud83d", "\U0001f4a9", "\u202e", "\ufeff",
    "\uffff", "\r\n", "\t", "%00", "%", "'", '"', "\\", "<script>alert(1)</script>", "../../etc/passwd",
    "\u3000", "１２３", "²", "٣", "NaN", "-1", "0", "99999999999999999999999", "1e400", "null",
    "路灯坏了", "13812345678", "20261101-0001", "123456",
]
DATES = [
    "0001-01-01", "0001-01-02", "0001-01-29", "0001-02-01", "9999-12-31", "9999-12-30", "9999-01-01",
    "0000-01-01", "2026-02-30", "2026-13-01", "2026-1-1", "20261101", "2026-11-01T00:00", "2026-W01",
    "+2026-11-01", "２０２６-１１-０１", "2026-11-01\x00", "1969-12-31", "2038-01-19", "2026-11-01",
    "2026-11-30", "1999-12-31", "2100-01-01", "", "-0001-01-01",
]
# Longer values go in bodies: a URL is limited to 64 KiB by the client already.
MAX_URL_VALUE = 1000
FIELDS = ["body", "title", "phone", "name", "location", "type", "urgency", "confidential"]


@dataclass(frozen=True)
class FuzzRequest:
    method: str
    path: str                 # with its query, percent-encoded
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None   # the decoded form, for signing an SMS webhook


def text(rng: random.Random) -> str:
    """A short string: a nasty value, ordinary text, or random code points of any kind."""
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(NASTY)
    if roll < 0.55:
        return "".join(rng.choice("小区门口路灯不亮已经一周了请尽快处理谢谢，。！？") for _ in range(rng.randint(5, 40)))
    if roll < 0.60:
        return "长" * rng.choice([199, 200, 201, 4999, 5000, 5001, 6000])
    ranges = [(0, 0x1F), (0x20, 0x7E), (0x80, 0x2FF), (0x4E00, 0x9FFF), (0xD800, 0xDFFF),
              (0xE000, 0xF8FF), (0xFFF0, 0xFFFF), (0x10000, 0x10FFFF)]
    chars = []
    for _ in range(rng.randint(0, 30)):
        low, high = rng.choice(ranges)
        chars.append(chr(rng.randint(low, high)))
    return "".join(chars)


def date(rng: random.Random) -> str:
    return rng.choice(DATES) if rng.random() < 0.8 else text(rng)


def encode(value: str, rng: random.Random) -> str:
    """Percent-encode as a browser would (UTF-8), but keep lone surrogates as the bytes a
    broken client would send; now and then a raw invalid byte."""
    raw = value[:MAX_URL_VALUE].encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:
        raw += bytes([rng.choice([0x80, 0xC0, 0xFF, 0xED])])
    return quote_plus(raw, safe="")


def query(pairs: list[tuple[str, str]], rng: random.Random) -> str:
    return "&".join(f"{quote_plus(k)}={encode(v, rng)}" for k, v in pairs)


def _json_value(rng: random.Random, depth: int = 0) -> object:
    roll = rng.random()
    if roll < 0.6 or depth > 2:
        return text(rng)
    return rng.choice([
        lambda: rng.randint(-10**30, 10**30), lambda: rng.random() * 1e308, lambda: rng.choice([True, False]),
        lambda: None, lambda: [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))],
        lambda: {text(rng): _json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))},
    ])()


def create_ticket(rng: random.Random, **_: object) -> FuzzRequest:
    """POST /api/v1/tickets."""
    roll = rng.random()
    headers = {"content-type": "application/json"}
    if roll < 0.08:
        body = rng.choice([b"", b"{", b"[]", b"null", b"\xff\xfe{}", b'{"body": "\xed\xa0\x80"}', b"NaN",
                           b'{"body": 1e999999}', b"[" * 100_000 + b"]" * 100_000,
                           b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "\ufeff{}".encode()])
        return FuzzRequest("POST", "/api/v1/tickets", body, headers)
    data: dict[str, object] = {}
    if rng.random() < 0.9:
        data["body"] = text(rng) if rng.random() < 0.7 else "小区门口路灯不亮已经一周了" + text(rng)
    for name in rng.sample(FIELDS, rng.randint(0, 4)):
        data[name] = _json_value(rng)
    if rng.random() < 0.1:
        data[text(rng)] = _json_value(rng)
    # ensure_ascii: a lone surrogate travels as \ud800, as JavaScript's JSON.stringify sends it
    return FuzzRequest("POST", "/api/v1/tickets", json.dumps(data).encode("ascii"), headers)


def show_ticket(rng: random.Random, number: str = "20261101-0001", code: str = "123456", **_: object) -> FuzzRequest:
    """GET /api/v1/tickets/{number}?code=..."""
    path_number = number if rng.random() < 0.3 else text(rng)
    pairs = [("code", code if rng.random() < 0.3 else text(rng))] if rng.random() < 0.9 else []
    segment = quote(path_number[:MAX_URL_VALUE].encode("utf-8", "surrogatepass"), safe="") or "x"
    return FuzzRequest("GET", f"/api/v1/tickets/{segment}?{query(pairs, rng)}")


def _period(rng: random.Random, with_days: bool) -> list[tuple[str, str]]:
    pairs = []
    if with_days and rng.random() < 0.3:
        pairs.append(("days", rng.choice(["1", "7", "366", "367", "0", "-1", "²", "٣", "１", "99999999999999999999"])
                      if rng.random() < 0.7 else text(rng)))
    if rng.random() < 0.8:
        pairs.append(("since", date(rng)))
    if rng.random() < 0.8:
        pairs.append(("until", date(rng)))
    return pairs


def stats(rng: random.Random, **_: object) -> FuzzRequest:
    """GET /api/v1/stats?since&until."""
    return FuzzRequest("GET", f"/api/v1/stats?{query(_period(rng, False), rng)}")


def holidays(rng: random.Random, **_: object) -> FuzzRequest:
    """GET /api/v1/holidays?year."""
    year = rng.choice(["2027", "1999", "0", "-1", "²", "٣", "１", "9" * 5000]) if rng.random() < 0.5 else text(rng)
    return FuzzRequest("GET", f"/api/v1/holidays?{query([('year', year)], rng)}")


def board(rng: random.Random, **_: object) -> FuzzRequest:
    """GET /board?days&since&until."""
    return FuzzRequest("GET", f"/board?{query(_period(rng, True), rng)}")


def status(rng: random.Random, number: str = "20261101-0001", code: str = "123456", **_: object) -> FuzzRequest:
    """GET /status?number&code."""
    pairs = [("number", number if rng.random() < 0.3 else text(rng)),
             ("code", code if rng.random() < 0.3 else text(rng))]
    return FuzzRequest("GET", f"/status?{query(pairs, rng)}")


def _form(csrf: str, pairs: list[tuple[str, str]], rng: random.Random) -> bytes:
    # The CSRF token stays intact: what lies behind the check is what is fuzzed here.
    return f"csrf_token={quote_plus(csrf)}&{query(pairs, rng)}".encode("ascii")


FORM = {"content-type": "application/x-www-form-urlencoded"}


def citizen_form(rng: random.Random, csrf: str = "", **_: object) -> FuzzRequest:
    """POST / (the complaint form), with a valid CSRF token: what reaches intake is fuzzed."""
    pairs = []
    for name in ("type", "title", "body", "phone", "name", "location", "confidential", "form_id"):
        if rng.random() < 0.8:
            value = text(rng)
            if name == "type" and rng.random() < 0.5:
                value = rng.choice(["complaint", "help", "咨询"])
            pairs.append((name, value))
    return FuzzRequest("POST", "/", _form(csrf, pairs, rng), FORM)


def login(rng: random.Random, csrf: str = "", **_: object) -> FuzzRequest:
    """POST /login with a valid CSRF token."""
    pairs = [("username", text(rng)), ("password", text(rng))]
    if rng.random() < 0.5:
        pairs.append(("next", rng.choice(["/operator", "//evil.example", "https://x", "/\\evil"]) + text(rng)))
    return FuzzRequest("POST", "/login", _form(csrf, pairs, rng), FORM)


def sms_inbound(rng: random.Random, sign: Callable[[str, dict[str, str]], str] | None = None,
                **_: object) -> FuzzRequest:
    """POST /sms/twilio, signed as Twilio signs it (the fuzzed fields are decoded values:
    Twilio signs what it sends, so a surrogate cannot survive its UTF-8)."""
    form = {"MessageSid": f"SM{rng.getrandbits(128):032x}", "AccountSid": "AC" + "5" * 32,
            "From": rng.choice(["+8613812345678", "13812345678", "+1 (555) 0100"]) if rng.random() < 0.7 else text(rng),
            "To": "+12345550100", "Body": text(rng), "NumMedia": rng.choice(["0", "1", "²", "-1", "x"]),
            "NumSegments": "1"}
    if rng.random() < 0.1:
        form["MediaUrl0"] = text(rng)
    form = {k: v.encode("utf-8", "replace").decode("utf-8") for k, v in form.items()}
    headers = dict(FORM)
    if sign is not None:
        headers["X-Twilio-Signature"] = sign("/sms/twilio", form)
    body = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in form.items()).encode("ascii")
    return FuzzRequest("POST", "/sms/twilio", body, headers, form)


ENTRY_POINTS: dict[str, Callable[..., FuzzRequest]] = {
    "POST /api/v1/tickets": create_ticket,
    "GET /api/v1/tickets/{n}": show_ticket,
    "GET /api/v1/stats": stats,
    "GET /api/v1/holidays": holidays,
    "GET /board": board,
    "GET /status": status,
    "POST /": citizen_form,
    "POST /login": login,
    "POST /sms/twilio": sms_inbound,
}
