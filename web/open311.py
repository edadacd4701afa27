"""Open311 GeoReport v2 under /open311/v2/: discovery, services, a service's definition,
filing a request (with a client's api_key) and reading requests, in JSON or XML by the
path's extension. The rules are in dispatch/open311.py; errors become the spec's
`[{"code", "description"}]` in web/errors.py."""
from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatch import limits, open311, open311_keys
from dispatch.attachments import Upload
from dispatch.errors import NotFound, Reason
from dispatch.open311_services import ATTRIBUTES, current_services, service_by_code
from web.auth import client_key
from web.body_limit import open311_photo_limit, read_body
from web.charsets import declared_charset, form_fields, multipart_form
from web.idempotent import once
from web.inputs import refuse_unstorable
from web.messages import OPEN311_CONTACT, OPEN311_KEY_SERVICE
from web.open311_format import CONTENT_TYPES, FORMATS, respond
from web.services import Services

log = logging.getLogger(__name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint last changed in a way clients should notice (discovery's changeset).
CHANGESET = "2026-12-03T00:00:00+08:00"
MAX_FORM_FIELDS = 60
MAX_FORM_BYTES = 1024 * 1024   # as Starlette's own limit of a form's field
ATTRIBUTE_PREFIX, ATTRIBUTE_SUFFIX = "attribute[", "]"
# The multipart file part taken as the request's photo (one, as media_url names one).
MEDIA_FIELD = "media"
MEDIA_FILES = frozenset({MEDIA_FIELD})


def _format(request: Request) -> str:
    fmt = request.path_params["format"].lower()
    if fmt not in FORMATS:
        raise NotFound(Reason.FORMAT_NOT_FOUND, value=request.path_params["format"][:20])
    return fmt


def _check_jurisdiction(request: Request, value: str | None) -> None:
    """One city per endpoint: jurisdiction_id may be left out, or be the city's code."""
    services: Services = request.app.state.services
    if value and value.strip() != services.city.code:
        raise NotFound(Reason.JURISDICTION_NOT_FOUND, value=value[:60])


def _list(raw: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (raw or "").split(",") if v.strip())


async def discovery(request: Request) -> Response:
    fmt = _format(request)
    services: Services = request.app.state.services
    base = (services.settings.public_url or str(request.base_url)).rstrip("/")
    return respond(fmt, "discovery", {
        "changeset": CHANGESET,
        "contact": OPEN311_CONTACT.format(city=services.city.name),
        "key_service": OPEN311_KEY_SERVICE,
        "endpoints": [{"specification": SPECIFICATION, "url": f"{base}/open311/v2", "changeset": CHANGESET,
                       "type": "production", "formats": [CONTENT_TYPES["xml"].split(";")[0],
                                                         CONTENT_TYPES["json"].split(";")[0]]}],
    })


async def service_list(request: Request) -> Response:
    fmt = _format(request)
    _check_jurisdiction(request, request.query_params.get("jurisdiction_id"))
    services: Services = request.app.state.services
    listed = await services.run(lambda session: current_services(session, services.city))
    return respond(fmt, "services", [
        {"service_code": s.code, "service_name": s.name, "description": s.description, "metadata": bool(ATTRIBUTES),
         "type": "realtime", "keywords": ", ".join(s.keywords), "group": s.group}
        for s in listed])


async def service_definition(request: Request) -> Response:
    fmt = _format(request)
    _check_jurisdiction(request, request.query_params.get("jurisdiction_id"))
    code = request.path_params["code"]
    services: Services = request.app.state.services
    service = await services.run(lambda session: service_by_code(session, services.city, code))
    if service is None:
        raise NotFound(Reason.SERVICE_NOT_FOUND, code=code[:64])
    return respond(fmt, "service_definition", {
        "service_code": service.code,
        "attributes": [{"variable": True, "code": a.code, "datatype": a.datatype, "required": a.required,
                        "datatype_description": a.datatype_description or None, "order": a.order,
                        "description": a.description,
                        "values": [{"key": key, "name": name} for key, name in a.values]}
                       for a in ATTRIBUTES],
    })


async def _form(request: Request) -> tuple[dict[str, str], Upload | None]:
    """The POST's fields (form-encoded, as the spec sends them, or multipart, each in the
    charset it declares), and a multipart form's photo: its one file part, `media`, as many
    GeoReport servers take it beside the spec's media_url."""
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    media: Upload | None = None
    if kind == "application/x-www-form-urlencoded":
        raw = await read_body(request, MAX_FORM_BYTES)
        fields = dict(form_fields(raw, declared_charset(content_type), MAX_FORM_FIELDS))
    elif kind == "multipart/form-data":
        services: Services = request.app.state.services
        raw = await read_body(request, open311_photo_limit(services.settings.attachment_max_bytes))
        texts, files = multipart_form(raw, content_type, MAX_FORM_FIELDS, files=MEDIA_FILES, max_files=1)
        fields = dict(texts)
        media = next((Upload(name=name, data=data) for _, name, data in files if data or name), None)
    else:
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    refuse_unstorable(fields.items())
    return fields, media


async def create_request(request: Request) -> Response:
    fmt = _format(request)
    services: Services = request.app.state.services
    fields, media = await _form(request)
    _check_jurisdiction(request, fields.get("jurisdiction_id"))
    attributes = {key[len(ATTRIBUTE_PREFIX):-len(ATTRIBUTE_SUFFIX)]: value for key, value in fields.items()
                  if key.startswith(ATTRIBUTE_PREFIX) and key.endswith(ATTRIBUTE_SUFFIX)}
    submission = open311.Submission(
        service_code=fields.get("service_code"), description=fields.get("description"), lat=fields.get("lat"),
        long=fields.get("long"), address_string=fields.get("address_string"), email=fields.get("email"),
        device_id=fields.get("device_id"), account_id=fields.get("account_id"),
        first_name=fields.get("first_name"), last_name=fields.get("last_name"), phone=fields.get("phone"),
        media_url=fields.get("media_url"), attributes=attributes, media=media)
    key = fields.get("api_key") or request.query_params.get("api_key")

    def work(session: Session) -> tuple[open311.Receipt, str]:
        client = open311_keys.authenticate(session, key)
        receipt = open311.submit(session, client, submission, city=services.city, rules=services.rules,
                                 router=services.router, limits=services.settings.limits,
                                 photo_limits=services.attachment_limits)
        return receipt, client.name

    async def file() -> Response:
        receipt, client_name = await services.run(work)
        log.info("open311 request filed", extra={"event": "open311_request", "number": receipt.service_request_id,
                                                 "client": client_name})
        return respond(fmt, "service_requests", [{"service_request_id": receipt.service_request_id,
                                                  "service_notice": receipt.service_notice,
                                                  "account_id": receipt.account_id}], 201)

    # The key is the client's: the same key from two clients is two requests.
    # A retry with the same key must carry the same photo too: its digest is part of the body.
    remembered = {k: v for k, v in fields.items() if k != "api_key"}
    if media is not None:
        remembered[MEDIA_FIELD] = hashlib.sha256(media.data).hexdigest()
    return await once(request, services, lambda session: f"open311:{open311_keys.authenticate(session, key).id}",
                      remembered, file)


async def request_list(request: Request) -> Response:
    fmt = _format(request)
    services: Services = request.app.state.services
    params = request.query_params
    _check_jurisdiction(request, params.get("jurisdiction_id"))
    query = open311.RequestQuery(
        ids=_list(params.get("service_request_id")), service_codes=_list(params.get("service_code")),
        start=open311.parse_datetime("start_date", params["start_date"]) if params.get("start_date") else None,
        end=open311.parse_datetime("end_date", params["end_date"], day_end=True) if params.get("end_date") else None,
        statuses=open311.parse_statuses(params.get("status") or ""))
    client = client_key(request)

    def work(session: Session) -> list[dict[str, Any]]:
        # Counted in the database: a list costs real CPU and needs no key.
        limits.count_open311_list(session, services.settings.limits, client)
        return open311.service_requests(session, services.city, query)

    found = await services.run(work)
    return respond(fmt, "service_requests", found)


async def request_detail(request: Request) -> Response:
    fmt = _format(request)
    services: Services = request.app.state.services
    _check_jurisdiction(request, request.query_params.get("jurisdiction_id"))
    number = request.path_params["id"]
    query = open311.RequestQuery(ids=(number,))
    found: list[dict[str, Any]] = await services.run(
        lambda session: open311.service_requests(session, services.city, query))
    if not found:
        raise NotFound(Reason.REQUEST_NOT_FOUND, id=number[:40])
    return respond(fmt, "service_requests", found)


PREFIX = "/open311/v2"
routes = [
    Route(PREFIX + "/discovery.{format}", discovery, methods=["GET"]),
    Route(PREFIX + "/services.{format}", service_list, methods=["GET"]),
    Route(PREFIX + "/services/{code}.{format}", service_definition, methods=["GET"]),
    Route(PREFIX + "/requests.{format}", create_request, methods=["POST"]),
    Route(PREFIX + "/requests.{format}", request_list, methods=["GET"]),
    Route(PREFIX + "/requests/{id}.{format}", request_detail, methods=["GET"]),
]
