"""Structured log lines, as text (the message, then every `extra` field as key=value) or,
with HOTLINE_LOG_FORMAT=json, one JSON object a line (timestamp, level, logger, event,
message and the extras); with secrets and personal data kept out of both: phone numbers and
ID numbers masked wherever they appear, extras named like a phone number masked and those
named like a name or a text dropped, query values hidden (a status lookup's query code is a
password), and no query string at all in uvicorn's access log.

A record is one line whatever it holds: values taken from requests (a path, a user name, a
ticket number) may carry newlines or terminal escapes, which would forge lines or fields. In
text, control characters are written escaped (\n, \x1b) and a value with a space, `=`, a
quote or a backslash is quoted, so that none can pass for another key=value; JSON escapes
them itself, and the line breaks it leaves (U+2028, U+2029, U+0085) are escaped too. A
traceback in text follows its record's line, each of its lines prefixed with CONTINUATION
(and its control characters escaped): a line that starts with a timestamp is always a
record's own, whatever an exception's message says."""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import Any, TextIO

from dispatch.masking import mask_phone, mask_text

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Any query parameter's value, in a URL anywhere in a line (Twilio's client logs its URLs).
_QUERY_VALUE = re.compile(r"([?&][^=&\s\"'#?]+=)[^&\s\"'#]+")
# International numbers mask_text does not know (E.164, possibly URL-encoded): keep the last 4.
_E164 = re.compile(r"(?:\+|%2[Bb])\d{3,11}(\d{4})(?!\d)")
# Extras that hold a phone number whatever its spelling: masked to its last four digits.
PHONE_FIELDS = frozenset({"phone", "caller", "sender", "recipient", "to", "from", "from_number", "caller_num",
                          "callerid", "contact"})
# Extras that hold what a citizen wrote or who they are: never logged ("name" itself is the
# logger's name, which logging keeps for itself).
PERSONAL_FIELDS = frozenset({"body", "citizen_name", "text", "title", "reply", "note", "location", "address",
                             "display_name", "id_number"})
DROPPED = "[redacted]"
# uvicorn's colour copy of its message: the same words, with terminal escapes.
_NOISE = frozenset({"color_message"})
# What could break a line or fool a terminal: C0 and C1 controls, DEL, the Unicode line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# A value written bare: nothing that could end it early or start a key=value of its own.
_BARE = re.compile(r'[^\s="\\\x00-\x1f\x7f-\x9f\u2028\u2029]+')
_LINE_BREAKS = re.compile(r"[\x7f-\x9f\u2028\u2029]")
# A bridge-style message that starts with its event name: "ami.logged_in host=...".
_DOTTED_EVENT = re.compile(r"^([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)(?:\s|$)")


def redact(text: str) -> str:
    text = _QUERY_VALUE.sub(r"\1***", text)
    text = mask_text(text, keep_identifiers=True)
    return _E164.sub(r"+***\1", text)


def redacted(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of the record with secrets masked in its message, extras and traceback. A copy:
    other handlers (a test's capture, say) still see the record as it was logged."""
    copy = logging.makeLogRecord(vars(record))
    if copy.name == "uvicorn.access" and isinstance(copy.args, tuple) and len(copy.args) >= 3:
        # (client, method, path with query, http version, status): the path alone
        args = list(copy.args)
        args[2] = str(args[2]).split("?", 1)[0]
        copy.args = tuple(args)
    copy.msg, copy.args = redact(copy.getMessage()), None
    for key, value in list(vars(copy).items()):
        if key in _STANDARD:
            continue
        if key in _NOISE:
            delattr(copy, key)
        elif key in PERSONAL_FIELDS:
            setattr(copy, key, DROPPED)
        elif key in PHONE_FIELDS and value is not None:
            setattr(copy, key, mask_phone(redact(str(value))) if str(value).strip() else value)
        elif isinstance(value, str):
            setattr(copy, key, redact(value))
        elif not isinstance(value, (int, float, bool, type(None))):
            setattr(copy, key, redact(str(value)))
    if copy.exc_info and not copy.exc_text:
        copy.exc_text = logging.Formatter().formatException(copy.exc_info)
    if copy.exc_text:
        copy.exc_text = redact(copy.exc_text)
    return copy


def escape_controls(text: str) -> str:
    """Control characters as escapes (\\n, \\r, \\t, \\x1b, \\u2028): the text stays on one line."""
    return _CONTROL.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def quoted_value(value: Any) -> str:
    """A value as key=value's right side: bare when it cannot be mistaken, else in double
    quotes with its backslashes, quotes and control characters escaped."""
    text = str(value)
    if _BARE.fullmatch(text):
        return text
    return '"' + escape_controls(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


# Starts every line of a traceback (or stack) under its record: a record's own line starts
# with its timestamp, so no line of an exception's text, whatever it holds, can pass for one.
CONTINUATION = "  | "


def continued(text: str) -> str:
    """A traceback as continuation lines: each prefixed, its other control characters escaped
    (a lone \r or a \u2028 would break a line too)."""
    return "".join("\n" + CONTINUATION + escape_controls(part) for part in text.split("\n"))


class KeyValueFormatter(logging.Formatter):
    """Formats the redacted copy of each record: this handler sees every logger's records
    (uvicorn's and twilio's too). The message's control characters are escaped and the
    extras' values quoted where needed (see the module's doc); a traceback keeps its lines,
    after the record's line and its extras, each prefixed (CONTINUATION), so that a crafted
    exception message cannot start a line of its own."""

    def format(self, record: logging.LogRecord) -> str:
        record = redacted(record)
        record.msg = escape_controls(str(record.msg))
        trailing = [text for text in (record.exc_text, record.stack_info and self.formatStack(record.stack_info))
                    if text]
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extras:
            line += " " + " ".join(f"{k}={quoted_value(v)}" for k, v in sorted(extras.items()))
        return line + "".join(continued(text) for text in trailing)


class JsonFormatter(logging.Formatter):
    """One JSON object a line from the redacted copy: an `event` name on every line (the
    `extra` one, else a message's leading dotted name like "ami.logged_in", else the logger's)."""

    def format(self, record: logging.LogRecord) -> str:
        access = _access_fields(record)
        record = redacted(record)
        extras = {**access, **{k: v for k, v in vars(record).items() if k not in _STANDARD}}
        message = record.getMessage()
        dotted = _DOTTED_EVENT.match(message)
        line: dict[str, Any] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": extras.pop("event", None) or (dotted.group(1) if dotted else record.name),
            "message": message,
        }
        line.update((k, v) for k, v in extras.items() if k not in line)
        if record.exc_text:
            line["exception"] = record.exc_text
        # json.dumps escapes C0 controls; the line breaks outside them it leaves as they are.
        return _LINE_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}",
                                json.dumps(line, ensure_ascii=False, default=str))


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """uvicorn's access line as fields: (client, method, path with query, version, status)."""
    if record.name != "uvicorn.access" or not isinstance(record.args, tuple) or len(record.args) < 5:
        return {}
    client, method, path, _version, status = record.args[:5]
    return {"event": "http_request", "client": str(client), "method": str(method),
            "path": redact(str(path).split("?", 1)[0]), "status": status}



def configure(level: str, stream: TextIO | None = None, log_format: str = "text") -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else
                         KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic narrates every plugin it loads at INFO; keep its warnings only.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    # Twilio's client logs each request's URL and headers at INFO (the recipient's number).
    logging.getLogger("twilio").setLevel(max(logging.WARNING, root.level))
    # uvicorn's lines go through this handler too, whatever configured them before.
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def uvicorn_options(level: str) -> dict[str, Any]:
    """uvicorn keeps its loggers on our handler (log_config=None), so its access log is
    redacted like every other line."""
    return {"log_config": None, "log_level": level.lower()}
