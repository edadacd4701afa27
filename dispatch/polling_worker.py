"""A background thread that works through what is due in the database: woken after a commit
that queued something, otherwise every poll_seconds. The text message outbox, the webhook
sender and the picture messages' photo fetcher are three; each says what one step is. It
lives here, beside the outbox, so that sms_gateway (which may not import web) shares it."""
from __future__ import annotations

import datetime as dt
import logging
import threading

from dispatch.clock import utcnow

log = logging.getLogger(__name__)


class PollingWorker:
    thread_name = "worker"
    error_event = "worker_error"   # the log's event when a step fails
    start_event = "worker_start"
    stop_event = "worker_stop"

    def __init__(self, poll_seconds: float) -> None:
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        log.info(f"{self.thread_name}: started", extra={"event": self.start_event})
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.drain()
            except Exception:  # a database outage must not end the thread
                log.exception(f"{self.thread_name}: a step failed", extra={"event": self.error_event})
            self._wake.wait(self._poll)
        log.info(f"{self.thread_name}: stopped", extra={"event": self.stop_event})

    def drain(self, limit: int = 1000) -> int:
        """Steps until nothing that was due when it began is left (at most `limit`)."""
        started = utcnow()
        done = 0
        while done < limit and not self._stop.is_set() and self.step(due_by=started):
            done += 1
        return done

    def step(self, due_by: dt.datetime | None = None) -> bool:
        """One attempt at the next due item; False when none is due."""
        raise NotImplementedError
