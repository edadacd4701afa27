"""Structured log lines: the message, then every `extra` field as key=value; with secrets
kept out: phone numbers and ID numbers masked, query values hidden (a status lookup's
query code is a password), and no query string at all in uvicorn's access log."""
from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

from dispatch.masking import mask_text

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Any query parameter's value, in a URL anywhere in a line (Twilio's client logs its URLs).
_QUERY_VALUE = re.compile(r"([?&][^=&\s\"'#?]+=)[^&\s\"'#]+")
# International numbers mask_text does not know (E.164, possibly URL-encoded): keep the last 4.
_E164 = re.compile(r"(?:\+|%2[Bb])\d{3,11}(\d{4})(?!\d)")


def redact(text: str) -> str:
    text = _QUERY_VALUE.sub(r"\1***", text)
    text = mask_text(text)
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
    for key, value in vars(copy).items():
        if key not in _STANDARD and isinstance(value, str):
            setattr(copy, key, redact(value))
    if copy.exc_info and not copy.exc_text:
        copy.exc_text = logging.Formatter().formatException(copy.exc_info)
    if copy.exc_text:
        copy.exc_text = redact(copy.exc_text)
    return copy


class KeyValueFormatter(logging.Formatter):
    """Formats the redacted copy of each record: this handler sees every logger's records
    (uvicorn's and twilio's too)."""

    def format(self, record: logging.LogRecord) -> str:
        record = redacted(record)
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in sorted(extras.items()))
        return line


def configure(level: str, stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
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
