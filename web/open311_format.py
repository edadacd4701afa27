"""The two bodies of Open311 GeoReport v2: JSON, and the XML the spec requires (a root named
for the collection, one child per item, named as the spec names them); and its errors,
`[{"code", "description"}]`, with the status codes the spec gives (400, 403, 404)."""
from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree

from starlette.responses import Response

JSON, XML = "json", "xml"
FORMATS = (JSON, XML)
CONTENT_TYPES = {JSON: "application/json; charset=utf-8", XML: "text/xml; charset=utf-8"}
# A list's items are named for what they are; the spec's XML examples show these.
ITEM_NAMES = {"services": "service", "service_requests": "request", "attributes": "attribute",
              "values": "value", "errors": "error", "endpoints": "endpoint", "formats": "format"}
# What XML 1.0 has no spelling for, not even as &#1;: one such character in one ticket made the
# whole feed not well-formed for every client. Tickets older than intake's own cleaning have them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def format_of(path: str) -> str:
    """The format a path asks for by its extension; JSON when it names neither (an error
    answering an unknown extension is still readable)."""
    return XML if path.lower().endswith(".xml") else JSON


def respond(fmt: str, root: str, value: Any, status_code: int = 200) -> Response:
    """`root`: the XML root element (services, service_requests, service_definition, discovery...)."""
    if fmt == XML:
        return Response(to_xml(root, value), status_code=status_code, media_type=CONTENT_TYPES[XML])
    return Response(json.dumps(value, ensure_ascii=False).encode("utf-8"), status_code=status_code,
                    media_type=CONTENT_TYPES[JSON])


def to_xml(root: str, value: Any) -> bytes:
    element = ElementTree.Element(root)
    _fill(element, root, value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(element, encoding="utf-8",
                                                                                xml_declaration=False)


def _fill(element: ElementTree.Element, name: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), key, item)
    elif isinstance(value, (list, tuple)):
        child = ITEM_NAMES.get(name, "item")
        for item in value:
            _fill(ElementTree.SubElement(element, child), child, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("", str(value))


# The spec: "404 for resources that don't exist, 403 for errors because of wrong or missing
# api_key and basically 400 for any other error". Kept as they are: too many requests (429,
# with Retry-After) and the server's own failures (500, 503), which a client handles apart.
KEPT_STATUSES = {403, 404, 429, 500, 503}


def spec_status(status: int) -> int:
    if status == 401:
        return 403
    return status if status in KEPT_STATUSES else 400


def error_response(path: str, status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    status = spec_status(status)
    response = respond(format_of(path), "errors", [{"code": status, "description": description}], status)
    response.headers.update(headers or {})
    return response
