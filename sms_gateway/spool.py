"""Citizens' texts that arrived while the database could not take writes, kept in a small
file until they can be filed.

Twilio does not hold an inbound message for us: a webhook answered 5xx is retried at most a
few times within 15 seconds, and by default only when the connection itself failed
(twilio.com/docs/usage/webhooks/webhooks-connection-overrides). A read-only or full database
lasts longer than that, so the text is appended here (one JSON line, flushed to disk) and
filed again by its MessageSid, which makes filing it twice a no-op.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from sms_gateway.webhook import InboundSms

log = logging.getLogger(__name__)


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def keep(self, sms: InboundSms) -> bool:
        """Append one text; False when even the spool cannot be written (a full disk)."""
        line = json.dumps(dataclasses.asdict(sms), ensure_ascii=False) + "\n"
        try:
            with self._lock, self.path.open("a", encoding="utf-8") as out:
                out.write(line)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            log.error("sms spool cannot be written", extra={"event": "sms_spool_failed", "sid": sms.message_sid,
                                                            "path": str(self.path), "error": str(exc)})
            return False
        log.warning("sms kept in the spool until the database takes writes",
                    extra={"event": "sms_spooled", "sid": sms.message_sid, "path": str(self.path)})
        return True

    def waiting(self) -> int:
        with self._lock:
            return len(self._read())

    def drain(self, file: Callable[[InboundSms], None]) -> int:
        """File every kept text in order with ``file``; stop at the first that fails (the
        database is still refusing) and keep it and the rest. Returns how many were filed."""
        with self._lock:
            kept = self._read()
            done = 0
            try:
                for sms in kept:
                    file(sms)
                    done += 1
            finally:
                if done:
                    self._rewrite(kept[done:])
        if done:
            log.info("spooled texts filed", extra={"event": "sms_spool_drained", "filed": done,
                                                   "left": len(kept) - done})
        return done

    def _read(self) -> list[InboundSms]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                data["media_urls"] = tuple(data.get("media_urls") or ())
                data["media_types"] = tuple(data.get("media_types") or ())
                out.append(InboundSms(**data))
            except (ValueError, TypeError):
                log.error("unreadable line in the sms spool", extra={"event": "sms_spool_bad_line",
                                                                     "line": line[:200]})
        return out

    def _rewrite(self, left: list[InboundSms]) -> None:
        if not left:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(json.dumps(dataclasses.asdict(s), ensure_ascii=False) + "\n" for s in left),
                       encoding="utf-8")
        os.replace(tmp, self.path)
