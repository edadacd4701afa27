"""The citizen's web form may carry photos: a body of up to HOTLINE_ATTACHMENTS_PER_TICKET times
HOTLINE_ATTACHMENT_MAX_BYTES (about 46 MB), sent by anyone. Such a body is held in memory
(and on disk) while it is read and checked, so before reading one the form asks, per process:

- that this address (counted as every per-address limit counts it, an IPv6 client by its /64)
  is not already sending another: one large body at a time per address;
- that fewer than LARGE_BODIES_AT_ONCE such bodies are being read in all.

A form of words alone (up to SMALL_BODY_BYTES, what BodyLimit lets any route take) is not
held back. The address's share of forms (HOTLINE_WEB_FORM_PER_ADDRESS) is looked at before
the body too (web/pages/public.py), so an address past it cannot make the server read one."""
from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from enum import Enum

from dispatch.limits import address_key
from web.body_limit import MAX_REQUEST_BYTES

SMALL_BODY_BYTES = MAX_REQUEST_BYTES
# About 100 MB of photos and their copies each while checked: a few at once is what a city's
# citizens send (a form takes seconds to read), and it bounds what strangers can make us hold.
LARGE_BODIES_AT_ONCE = 4
PER_ADDRESS_AT_ONCE = 1


class Refusal(Enum):
    ADDRESS_BUSY = "address_busy"   # this address is sending a large body already
    SERVER_BUSY = "server_busy"     # as many large bodies are being read as the process takes


def large(declared_length: str | None) -> bool:
    """A body that may carry photos: past SMALL_BODY_BYTES, or of no declared length."""
    return not (declared_length or "").isdigit() or int(declared_length or 0) > SMALL_BODY_BYTES


class UploadGate:
    """Counts the large bodies being read, per address and in all. Used from the event loop
    only (no await between the check and the count), so it needs no lock."""

    def __init__(self, at_once: int = LARGE_BODIES_AT_ONCE, per_address: int = PER_ADDRESS_AT_ONCE) -> None:
        self.at_once, self.per_address = at_once, per_address
        self.reading: Counter[str] = Counter()

    @contextlib.contextmanager
    def admit(self, client: str) -> Iterator[Refusal | None]:
        """None while the body may be read (the place is held until the block ends), or why not."""
        key = address_key(client)
        if self.reading[key] >= self.per_address:
            yield Refusal.ADDRESS_BUSY
            return
        if sum(self.reading.values()) >= self.at_once:
            yield Refusal.SERVER_BUSY
            return
        self.reading[key] += 1
        try:
            yield None
        finally:
            self.reading[key] -= 1
            if not self.reading[key]:
                del self.reading[key]
