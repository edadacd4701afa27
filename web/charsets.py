"""Bodies in the character set a client declares. An Open311 client may send its form in GBK
(`application/x-www-form-urlencoded; charset=gbk`, as some Chinese civic apps do): the form is
read in that charset, strictly; a multipart form the same way, each text part in the charset
its own Content-Type names, else the form's `_charset_` field (as browsers send it), else the
request's charset parameter, else UTF-8 (Starlette's own multipart reading falls back to
latin-1, which stores GBK as mojibake). JSON is UTF-8 (RFC 8259): a body that is not is refused as
such, not as "not JSON". Either way no replacement character (U+FFFD) is ever stored in place
of what a citizen wrote."""
from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header
from python_multipart.exceptions import FormParserError
from starlette.exceptions import HTTPException

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


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise UnsupportedEncoding("body", Reason.UNKNOWN_CHARSET, charset=name[:40]) from None


def _strict(raw: bytes, codec: str, declared: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        raise UnsupportedEncoding("body", Reason.NOT_IN_CHARSET, charset=declared[:40]) from None


@dataclass
class _Part:
    disposition: bytes = b""
    content_type: bytes = b""
    data: bytearray = field(default_factory=bytearray)


class _Parts:
    """A multipart body's parts as bytes, with the two headers that matter here."""

    def __init__(self, max_fields: int) -> None:
        self.max_fields = max_fields
        self.parts: list[_Part] = []
        self._header, self._value = b"", b""

    def begin(self) -> None:
        if len(self.parts) >= self.max_fields:
            raise BadRequest("body", Reason.FORM_TOO_MANY_FIELDS, limit=self.max_fields)
        self.parts.append(_Part())

    def data(self, data: bytes, start: int, end: int) -> None:
        self.parts[-1].data += data[start:end]

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        name = self._header.strip().lower()
        if name == b"content-disposition":
            self.parts[-1].disposition = self._value
        elif name == b"content-type":
            self.parts[-1].content_type = self._value
        self._header, self._value = b"", b""


def multipart_fields(raw: bytes, content_type: str, max_fields: int) -> list[tuple[str, str]]:
    """A multipart/form-data body's text fields, each read strictly in the charset declared for
    it (see the module's words); a file part, a part without a name or a body that is not
    multipart is refused with a 400, as Starlette refused them."""
    return multipart_form(raw, content_type, max_fields)[0]


def multipart_form(raw: bytes, content_type: str, max_fields: int, *, files: frozenset[str] = frozenset(),
                   max_files: int = 0) -> tuple[list[tuple[str, str]], list[tuple[str, str, bytes]]]:
    """multipart_fields(), and the file parts named in `files` (at most `max_files` of them) as
    (field name, file name, bytes); any other file part is refused with a 400."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise HTTPException(400, "Missing boundary in multipart.")
    parts = _Parts(max_fields)
    try:
        parser = MultipartParser(boundary, {
            "on_part_begin": parts.begin, "on_part_data": parts.data, "on_header_field": parts.header_field,
            "on_header_value": parts.header_value, "on_header_end": parts.header_end})
        parser.write(raw)
        parser.finalize()
    except FormParserError:
        raise HTTPException(400, "Invalid multipart data.") from None
    named: list[tuple[bytes, _Part]] = []
    uploads: list[tuple[str, str, bytes]] = []
    for part in parts.parts:
        _, options = parse_options_header(part.disposition)
        if b"name" not in options:
            raise HTTPException(400, 'The Content-Disposition header field "name" must be provided.')
        if b"filename" in options:
            name = options[b"name"].decode("utf-8", "replace")
            if name not in files or len(uploads) >= max_files:
                raise HTTPException(400, f"Too many files. Maximum number of files is {max_files}.")
            # A file's name is a browser's UTF-8 (RFC 7578); anything else is only a label.
            uploads.append((name, options[b"filename"].decode("utf-8", "replace"), bytes(part.data)))
            continue
        named.append((options[b"name"], part))
    # The form's own declaration: `_charset_`, which a browser fills in with the charset it
    # used; else the request's charset parameter; else UTF-8.
    form_charset = declared_charset(content_type) or "utf-8"
    for name, part in named:
        if name == b"_charset_" and bytes(part.data).strip():
            form_charset = _strict(bytes(part.data), "ascii", "ascii").strip()
            break
    fields = []
    for name, part in named:
        declared = declared_charset(part.content_type.decode("latin-1")) or form_charset
        codec = _codec(declared)
        fields.append((_strict(name, codec, declared), _strict(bytes(part.data), codec, declared)))
    return fields, uploads


def utf8_json(raw: bytes) -> None:
    """Raise UnsupportedEncoding when `raw` is neither UTF-8 nor UTF-16 / 32 as JSON allows."""
    encoding = json.detect_encoding(raw)
    if encoding.startswith("utf-8"):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            raise UnsupportedEncoding("body", Reason.JSON_NOT_UTF8) from None
