"""Bodies in the character set a client declares. An Open311 client may send its form in GBK
(`application/x-www-form-urlencoded; charset=gbk`, as some Chinese civic apps do): the form is
read in that charset, strictly. JSON is UTF-8 (RFC 8259): a body that is not is refused as
such, not as "not JSON". Either way no replacement character (U+FFFD) is ever stored in place
of what a citizen wrote."""
from __future__ import annotations

import codecs
import json
import re
from urllib.parse import parse_qsl

from dispatch.errors import Reason
from web.errors import BadRequest, UnsupportedEncoding

_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)


def declared_charset(content_type: str) -> str | None:
    found = _CHARSET.search(content_type)
    return found.group(1) if found else None


def form_fields(raw: bytes, charset: str | None, max_fields: int) -> list[tuple[str, str]]:
    """An url-encoded form's fields, its percent-escapes read in `charset` (none: UTF-8)."""
    name = charset or "utf-8"
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise UnsupportedEncoding("body", Reason.UNKNOWN_CHARSET, charset=name[:40]) from None
    try:
        # The escapes are bytes of the charset; the body itself is ASCII once escaped.
        text = raw.decode(codec.name)
        return parse_qsl(text, keep_blank_values=True, encoding=codec.name, errors="strict",
                         max_num_fields=max_fields)
    except UnicodeDecodeError:
        raise UnsupportedEncoding("body", Reason.NOT_IN_CHARSET, charset=name[:40]) from None
    except ValueError:   # more fields than max_fields
        raise BadRequest("body", Reason.FORM_TOO_MANY_FIELDS, limit=max_fields) from None


def utf8_json(raw: bytes) -> None:
    """Raise UnsupportedEncoding when `raw` is neither UTF-8 nor UTF-16 / 32 as JSON allows."""
    encoding = json.detect_encoding(raw)
    if encoding.startswith("utf-8"):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            raise UnsupportedEncoding("body", Reason.JSON_NOT_UTF8) from None
