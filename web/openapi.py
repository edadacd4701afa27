"""The OpenAPI 3 description of every /api/v1 route, written by hand as data (a test checks
that each route and method of the app is described here), served at /api/v1/openapi.json."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch import staff_notices
from dispatch.actions import ACTIONS
from dispatch.errors import Reason
from dispatch.notices import NoticeKind
from dispatch.vocabulary import RequestType, Urgency

TEXT = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
FLOAT = {"type": "number"}
# Every instant of the JSON API: UTC to the second with Z (dispatch.clock.api_time), e.g. 2026-12-03T01:55:10Z.
WHEN = {"type": "string", "format": "date-time", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
        "example": "2026-12-03T01:55:10Z"}
# A list's paging (dispatch/paging.py): counted up to 1,000, paged on by next_page past it.
TOTAL = {**INT, "description": "rows counted, at most 1000"}
MORE = {**BOOL, "description": "the count stopped at 1000: there are more (`pages` counts only those 1000)"}
NEXT_PAGE = {**INT, "nullable": True, "description": "the next page's number while rows follow this page (past "
             "the count too), else null: follow it until null to read the whole list"}
# Keyset paging: a page asked by `cursor` is read after the last row of the page before, by the
# list's order alone (no OFFSET, nothing counted: its page, pages, total, more and next_page are null).
NEXT_CURSOR = {**TEXT, "nullable": True, "description": "an opaque cursor after this page's last row while rows "
               "follow it, else null: pass it as `cursor` for the next page (by the sort key, no OFFSET; rows "
               "added meanwhile are neither skipped nor repeated)"}
CURSOR = {"name": "cursor", "in": "query", "schema": TEXT,
          "description": "a page's next_cursor: the page after it, instead of `page`"}
PAGE_INT = {**INT, "nullable": True, "description": "null for a page asked by cursor"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    words = {401: "缺少令牌，或令牌无效、过期、已撤销", 403: "角色或单位无权执行此操作",
             404: "没有此工单（或无权查看，答复与不存在相同）", 409: "当前状态不允许此操作，或工单已被他人修改",
             415: "请求内容不是 UTF-8 编码", 422: "参数有误（field 指出哪一项）", 429: "尝试过于频繁（见 Retry-After）"}
    return {str(s): _json(_ref("Error"), words[s]) for s in statuses}


# The body each staff action takes; every one may also carry "expected_version".
ACTION_BODIES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "transfer": ({"unit": {**TEXT, "description": "the lead unit's code (GET /api/v1/units); may be left out "
                                                   "with a category whose entry names its own unit"},
                  "category": {**TEXT, "description": "dispatch catalogue entry: its code or level path "
                                                      "level1/level2/level3 (GET /api/v1/catalogue)"},
                  "note": TEXT,
                  "co_units": {"type": "array", "items": TEXT,
                               "description": "codes of the co-handling units (协办), none by default"}}, ()),
    "answer": ({"reply": TEXT, "article_id": {**INT, "description": "a published knowledge base article to "
                                              "answer from: the reply cites it (then reply is optional)"},
                "answer_confirmed": {**BOOL, "description": "the operator checked that a request whose words "
                                     "point to an emergency number (110/119/120/122) is none; without it such "
                                     "a ticket is refused (422, reason emergency_not_answered)"}}, ()),
    "accept": ({}, ()),
    "return": ({"reason": TEXT}, ("reason",)),
    "request_extension": ({"days": {**INT, "minimum": 1, "description": "working days asked for, at most "
                                    "HOTLINE_EXTENSION_MAX_WORKING_DAYS (15 by default)"},
                           "reason": TEXT}, ("days", "reason")),
    "decide_extension": ({"approve": BOOL, "reason": TEXT}, ("approve",)),
    "resolve": ({"reply": TEXT}, ("reply",)),
    "escalate": ({"note": TEXT, "again": BOOL}, ("note",)),
    "follow_up": ({"rating": {"type": "string", "enum": ["satisfied", "partly", "unsatisfied", "unreachable"]},
                   "note": TEXT}, ("rating",)),
    "close": ({"note": TEXT}, ("note",)),
    "merge": ({"into": {**TEXT, "description": "the main ticket's number"}}, ("into",)),
    "invalidate": ({"reason": TEXT, "flag_number": {**BOOL, "description": "also flag the caller's number "
                                                    "as malicious, with this reason"}}, ("reason",)),
    "handover": ({"to": {"type": "string", "enum": ["110", "119", "120", "122"]}, "note": TEXT}, ("to",)),
    "dispute": ({"reason": TEXT}, ("reason",)),
    "decide_dispute": ({"approve": BOOL, "reason": TEXT}, ("approve", "reason")),
    "part_reply": ({"reply": {**TEXT, "description": "a co-handling unit's (or sub-unit's) answer to the lead"}},
                   ("reply",)),
    "forward": ({"unit": {**TEXT, "description": "code of one of the lead unit's own sub-units (二次派单)"},
                 "note": TEXT}, ("unit",)),
    "override_parts": ({"reason": TEXT}, ("reason",)),
    "request_override": ({"reason": TEXT}, ("reason",)),
    "refuse_override": ({"reason": TEXT}, ("reason",)),
    "progress": ({"text": {**TEXT, "description": "办理进展: the unit's progress note, at most 1000 characters; "
                                               "no state change"},
                  "public": {**BOOL, "description": "also shown to the citizen on /status (masked)"}}, ("text",)),
    "correct": ({"type": {"type": "string", "enum": [t.value for t in RequestType]},
                 "urgency": {"type": "string", "enum": [u.value for u in Urgency]},
                 "phone": {**TEXT, "description": "the caller's number; empty clears it where intake takes none"},
                 "body": TEXT, "location": {**TEXT, "description": "事发地点; empty clears it"},
                 "name": {**TEXT, "description": "the citizen's name; empty clears it"},
                 "confidential": {**BOOL, "description": "保密: hidden from units and from the public pages at once"}},
                ()),
}

# One 协办 or 二次派单 part, as a ticket's `parts` lists it and an action on the part answers it.
PART: dict[str, Any] = {
    "unit_code": TEXT, "unit": TEXT, "role": {"type": "string", "enum": ["co", "forward"]},
    "status": {"type": "string", "enum": ["pending", "accepted", "returned", "replied", "waived", "withdrawn"]},
    "reply": TEXT, "return_reason": TEXT, "transferred_at": WHEN, "replied_at": WHEN, "on_time": BOOL}

SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": TEXT, "message": {**TEXT, "description": "中文说明"},
                      "reason": {"type": "string", "enum": [r.value for r in Reason],
                                 "description": "why: one code per cause; its Chinese words are the message"},
                      "field": TEXT,
                      "detail": {**TEXT, "description": "the reason code after its field, without its data"},
                      "state": TEXT, "action": TEXT}, ("error", "message")),
    "Unit": _object({"code": TEXT, "name": TEXT, "kind": {"type": "string", "enum": ["department", "township", "other"]},
                     "parent": {"type": "string", "nullable": True},
                     "active": {**BOOL, "description": "false: retired (listed with ?all=1 only)"}}, ("code", "name", "kind")),
    "Token": _object({"token": TEXT, "token_type": {"type": "string", "enum": ["Bearer"]},
                      "expires_at": {**WHEN, "nullable": True}}, ("token", "expires_at")),
    "Notice": _object({"id": INT, "unit": TEXT, "unit_id": INT, "ticket": {**TEXT, "nullable": True},
                       "kind": {"type": "string", "enum": [kind.value for kind in NoticeKind
                                                               if kind not in staff_notices.KINDS]},   # units' alone
                       "text": TEXT, "created_at": WHEN, "read_at": {**WHEN, "nullable": True}},
                      ("id", "unit", "kind", "text", "created_at")),
    "NoticePage": _object({"notices": {"type": "array", "items": _ref("Notice")}, "page": PAGE_INT,
                           "pages": PAGE_INT, "total": {**TOTAL, "nullable": True},
                           "more": {**MORE, "nullable": True}, "next_page": NEXT_PAGE, "next_cursor": NEXT_CURSOR},
                          ("notices", "page", "pages", "total", "more", "next_page", "next_cursor")),
    # ?mine=1: a supervisor's or admin's own notices (dispatch/staff_notices.py), paged alike.
    "SupervisorNotice": _object({"id": INT, "unit": {**TEXT, "nullable": True}, "unit_id": {**INT, "nullable": True},
                                 "ticket": {**TEXT, "nullable": True},
                                 "kind": {"type": "string", "enum": sorted(kind.value for kind in staff_notices.KINDS)},
                                 "text": TEXT, "created_at": WHEN, "read_at": {**WHEN, "nullable": True},
                                 "settled": {**_object({
                                     "how": {"type": "string", "enum": sorted(s.value for s in staff_notices.Settled)},
                                     "by": {**TEXT, "nullable": True,
                                            "description": "the display name of who decided; null when it lapsed"},
                                     "label": TEXT, "detail": TEXT}, ("how", "by", "label", "detail")),
                                     "nullable": True,
                                     "description": "a request's notice done with (已处理): decided, by whom, or "
                                                    "lapsed, in the words /supervisor/notices shows; null while it "
                                                    "waits and on every other kind"}},
                                ("id", "kind", "text", "created_at")),
    "SupervisorNoticePage": _object({"notices": {"type": "array", "items": _ref("SupervisorNotice")},
                                     "page": PAGE_INT, "pages": PAGE_INT, "total": {**TOTAL, "nullable": True},
                                     "more": {**MORE, "nullable": True}, "next_page": NEXT_PAGE,
                                     "next_cursor": NEXT_CURSOR},
                                    ("notices", "page", "pages", "total", "more", "next_page", "next_cursor")),
    "ReplyTemplate": _object({"id": INT, "title": TEXT, "text": {**TEXT, "description": "as kept: {编号} and {日期} "
                                                                   "are filled in on the ticket page only"},
                              "scope": {"type": "string", "enum": ["unit", "city"]},
                              "editable": {**BOOL, "description": "the user keeps this list (unit staff their "
                                                                  "unit's, admins the city-wide one)"},
                              "changed_at": WHEN, "changed_by": TEXT},
                             ("id", "title", "text", "scope", "editable", "changed_at", "changed_by")),
    "ReplyTemplateBody": _object({"title": {**TEXT, "maxLength": 50}, "text": {**TEXT, "maxLength": 2000}},
                                 ("title", "text")),
    "ShiftHandover": _object({"id": INT, "by": {**TEXT, "description": "who handed over (display name)"},
                              "created_at": WHEN, "shift_start": WHEN, "note": TEXT,
                              "waiting_tickets": {**INT, "description": "their filed tickets still received or "
                                                                        "returned when they handed over"},
                              "open_callbacks": INT, "unreached_callbacks": {**INT, "description": "open callbacks "
                                                                             "tried without reaching anyone"},
                              "tickets": {"type": "array", "items": TEXT}, "callbacks": {"type": "array", "items": INT},
                              "acknowledged_at": {**WHEN, "nullable": True},
                              "acknowledged_by": {**TEXT, "nullable": True, "description": "who took it over (接班)"},
                              "expired": {**BOOL, "description": "nobody took it over within 24 hours: no longer "
                                                                 "pending (未接班（已过期）)"}},
                             ("id", "by", "created_at", "note", "acknowledged_at", "acknowledged_by")),
    "Credentials": _object({"username": TEXT, "password": TEXT}, ("username", "password")),
    "NewTicket": _object({"body": TEXT, "title": TEXT, "phone": TEXT, "name": TEXT, "location": TEXT,
                          "type": TEXT, "urgency": {"type": "string", "enum": ["normal", "urgent"]},
                          "confidential": BOOL}, ("body",)),
    "Filed": _object({"number": TEXT, "query_code": TEXT, "state": TEXT, "deadline": WHEN, "received_at": WHEN,
                      "repeat_of_open_ticket": BOOL}),
    "PublicTicket": _object({"number": TEXT, "state": TEXT, "state_label": TEXT, "bucket": TEXT, "title": TEXT,
                             "body": TEXT, "name": TEXT, "phone": TEXT, "unit": TEXT, "reply": TEXT,
                             "parts": {"type": "array", "description": "co-handling units' part replies "
                                       "under the lead's reply (masked)",
                                       "items": _object({"unit": TEXT, "reply": TEXT})},
                             "timeline": {"type": "array", "items": {"type": "object"}},
                             "photo_count": {**INT, "description": "how many photos the citizen sent with the "
                                             "ticket (staff's not counted); the photos themselves are never public"}}),
    "CallsLive": {"type": "object", "description": "dispatch.wallboard: waiting, oldest_waiting_since, "
                  "longest_wait_seconds, agents {ready, ringing, talking, wrap_up, paused}, agent_list (interface, "
                  "name, state, since, paused_reason, paused_seconds_today), today "
                  "{offered, answered, abandoned, short_abandoned, answer_rate, abandonment_rate, answered_within_15s, "
                  "answer_rate_15s, service_level_seconds, service_level, asa_seconds}, last_24h {offered, answered, "
                  "answer_rate}, callbacks_pending, alarms [long_wait, low_answer_rate, no_agent_ready], thresholds"},
    "Stats": {"type": "object", "description": "dispatch.reports.summary(): tickets (received, resolution, "
              "satisfaction_rate, follow_up_rate ...), units, calls, handovers, disputes"},
    "TicketSummary": _object({"number": TEXT, "state": TEXT, "state_label": TEXT, "version": INT, "channel": TEXT,
                              "type": TEXT, "urgency": TEXT, "confidential": BOOL, "title": TEXT,
                              "unit_code": TEXT, "unit": TEXT, "received_at": WHEN, "deadline": WHEN,
                              "overdue": BOOL}),
    "TicketPage": _object({"tickets": {"type": "array", "items": _ref("TicketSummary")}, "page": PAGE_INT,
                           "pages": PAGE_INT, "total": {**TOTAL, "nullable": True},
                           "more": {**MORE, "nullable": True}, "next_page": NEXT_PAGE, "next_cursor": NEXT_CURSOR},
                          ("tickets", "page", "pages", "total", "more", "next_page", "next_cursor")),
    "Event": _object({"at": WHEN, "actor": TEXT, "actor_name": {**TEXT, "description": "display name of a staff actor"},
                      "action": TEXT, "from": TEXT, "to": TEXT, "unit": TEXT,
                      "note": TEXT}),
    "TicketDetail": _object({
        "number": TEXT, "state": TEXT, "state_label": TEXT, "version": INT, "title": TEXT, "body": TEXT,
        "phone": {**TEXT, "description": "（保密） for unit staff on a confidential ticket"}, "name": TEXT,
        "unit": TEXT, "unit_code": TEXT, "deadline": WHEN, "overdue": BOOL, "reply": TEXT,
        "deadline_class": {**TEXT, "nullable": True,
                           "description": "the dispatch catalogue entry's deadline class (urgent, quick), if any"},
        "events": {"type": "array", "items": _ref("Event")},
        "allowed_actions": {"type": "array", "items": {"type": "string", "enum": list(ACTIONS)}},
        "open_dispute": {"type": "object", "nullable": True}, "pending_extension": {"type": "object", "nullable": True},
        "phone_flag": {"type": "object", "nullable": True},
        "raised_by": {**INT, "description": "多人反映: 1 + duplicates merged into it"},
        "duplicates": {"type": "array", "items": TEXT}, "merged_into": TEXT, "handover_to": TEXT,
        "repeat_of": {"type": "array", "description": "while the user may merge it: the same number's earlier "
                      "open tickets (last HOTLINE_REPEAT_PROPOSAL_DAYS) these words may repeat, best first; a "
                      "proposal for the merge action, nothing is merged by itself",
                      "items": _object({"number": TEXT, "title": TEXT, "state": TEXT, "received_at": WHEN,
                                        "score": {"type": "number"}})},
        "rating": TEXT, "rating_channel": TEXT, "follow_up_attempts": INT, "close_reason": TEXT,
        "attachments": {"type": "array", "description": "the ticket's photos the user may see, with those of "
                        "the tickets merged into it (merged_from: the duplicate's number), oldest first "
                        "(metadata only; GET .../attachments/{attachment_id} for one)",
                        "items": _object({"id": INT, "file_name": TEXT, "media_type": TEXT, "size": INT,
                                          "sha256": TEXT, "added_at": WHEN, "added_by": TEXT,
                                          "by_citizen": BOOL, "unit_code": TEXT, "merged_from": TEXT})},
        "media_fetches": {"type": "array", "description": "photos of the citizen's picture message (MMS) not on "
                          "the ticket: each fetch pending, fetching or failed (given up; 重新获取 on the ticket "
                          "page starts another round), with its attempts and last error (links cut to their "
                          "host); never the link itself. Empty for a unit kept from the citizen's details",
                          "items": _object({"id": INT, "message_sid": TEXT, "position": INT,
                                            "status": {"type": "string", "enum": ["pending", "fetching", "failed"]},
                                            "attempts": INT, "last_error": {**TEXT, "nullable": True},
                                            "next_attempt_at": {**WHEN, "nullable": True}, "updated_at": WHEN})},
        "parts": {"type": "array", "description": "协办 and 二次派单 parts of the current transfer",
                  "items": _object(PART)},
        "catalogue_entry": {**_object({"code": TEXT, "path": TEXT, "version": INT, "current": BOOL}),
                            "nullable": True,
                            "description": "the dispatch catalogue entry it was dispatched under, as it was then"}}),
    "Similar": _object({"number": TEXT, "similar": {"type": "array", "items": _object({
        "number": TEXT, "title": TEXT, "state": TEXT, "received_at": WHEN, "score": {"type": "number"},
        "text_score": {"type": "number"}, "same_place": BOOL, "same_category": BOOL})}}),
    "ActionResult": _object({
        "number": TEXT, "state": {**TEXT, "description": "the ticket's state (a part's step leaves it as it was)"},
        "state_label": TEXT, "version": INT, "unit_code": {**TEXT, "description": "the lead unit holding the ticket"},
        "part": {**_object({**PART, "status_label": {**TEXT, "description": "the status in Chinese (已签收...)"}}),
                 "nullable": True,
                 "description": "a co-handling unit's or a sub-unit's accept, return or part_reply: its part as it "
                                "now is; null for every other action"}}),
    "ActionBody": _object({"expected_version": {**INT, "description": "the version you saw; 409 if it changed"},
                           **{name: schema for body, _ in ACTION_BODIES.values() for name, schema in body.items()}}),
}

NUMBER = {"name": "number", "in": "path", "required": True, "schema": TEXT}
BEARER = [{"bearer": []}]
_QUALITY_INSPECTION = _object({
    "id": INT, "number": TEXT, "title": TEXT, "operator": TEXT, "inspector": TEXT,
    "scores": {"type": "object", "additionalProperties": INT, "description": "service, intake, routing, reply"},
    "total": {**INT, "description": "out of 100"}, "comment": TEXT, "created_at": TEXT})
TEMPLATE_ID = {"name": "template_id", "in": "path", "required": True, "schema": INT}

PATHS: dict[str, Any] = {
    "/api/v1/tickets": {"post": {
        "summary": "File a ticket (citizen, public)", "security": [],
        "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {**TEXT, "maxLength": 200},
                        "description": "a retry with the same key (from the same address, within 24 h) and the "
                                       "same body gets the first answer again (header Idempotent-Replayed: true), "
                                       "no second ticket; the same key with another body: 422; while the first "
                                       "is still in progress: 409"}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewTicket")}}},
        "responses": {"201": _json(_ref("Filed"), "filed"), "200": _json(_ref("Filed"), "a repeat: the open ticket"),
                      **_errors(409, 415, 422)}}},
    "/api/v1/tickets/{number}": {"get": {
        "summary": "A ticket as its citizen sees it (masked), by number and query code", "security": [],
        "parameters": [NUMBER, {"name": "code", "in": "query", "required": True, "schema": TEXT}],
        "responses": {"200": _json(_ref("PublicTicket")), **_errors(404)}}},
    "/api/v1/stats": {"get": {
        "summary": "The figures of a period (public)", "security": [],
        "parameters": [{"name": "since", "in": "query", "schema": {"type": "string", "format": "date"}},
                       {"name": "until", "in": "query", "schema": {"type": "string", "format": "date"}},
                       {"name": "level", "in": "query", "schema": {"type": "string", "enum": ["1", "2", "3"]},
                        "description": "also the figures per dispatch catalogue level (key `catalogue`)"}],
        "responses": {"200": _json(_ref("Stats")), **_errors(422)}}},
    "/api/v1/catalogue": {"get": {
        "summary": "The dispatch catalogue (派单目录): the three-level tree with each entry's unit, or "
                   "with q the level-3 entries matching it (public)", "security": [],
        "parameters": [{"name": "q", "in": "query", "schema": TEXT,
                        "description": "words of a level-3 name, path or term, or an entry code"},
                       {"name": "limit", "in": "query", "schema": {**INT, "minimum": 1, "maximum": 100}}],
        "responses": {"200": _json(_object({"version": INT, "entries": {},
                                             "tree": {"type": "array", "items": _object({})}}))}}},
    "/api/v1/holidays": {"get": {
        "summary": "A year's holidays and make-up workdays, and what its working days stand on (public)",
        "security": [],
        "parameters": [{"name": "year", "in": "query", "schema": {**INT, "minimum": 2000, "maximum": 2099},
                        "description": "default: this year (China time)"}],
        "responses": {"200": _json(_object({
            "year": INT, "official": BOOL,
            "basis": {"type": "string", "enum": ["entered", "official", "weekends"],
                      "description": "entered: days set by supervisors (the package fills in where it "
                                     "knows); official: the chinesecalendar package; weekends: nobody "
                                     "knows the year, Monday-Friday count"},
            "missing": {"type": "array", "items": TEXT,
                        "description": "festivals (元旦, 春节...) not entered for a year the package does not "
                                       "know: their days count as ordinary weekdays until entered; empty "
                                       "when nothing is missing"},
            "days": {"type": "array", "items": _object({
                "date": {"type": "string", "format": "date"},
                "kind": {"type": "string", "enum": ["holiday", "workday"]}, "name": TEXT,
                "source": {"type": "string", "enum": ["entered", "official"]}})}})), **_errors(422)}}},
    "/api/v1/kb": {"get": {
        "summary": "Knowledge base articles for a question, best first: public ones, internal ones too "
                   "with a staff bearer token (optional; a wrong one is 401)",
        "security": [{}, *BEARER],
        "parameters": [{"name": "q", "in": "query", "required": True, "schema": {**TEXT, "maxLength": 200}},
                       {"name": "limit", "in": "query", "schema": {**INT, "minimum": 1, "maximum": 20},
                        "description": "default 5"}],
        "responses": {"200": _json(_object({"results": {"type": "array", "items": _object({
            "id": INT, "title": TEXT, "score": {"type": "number", "description": "BM25, higher is better"},
            "snippet": {**TEXT, "description": "the best matching passage, plain text"},
            "version": INT, "public": BOOL, "url": TEXT}, ("id", "title", "score", "snippet"))}})),
            **_errors(401, 422)}}},
    "/api/v1/units": {"get": {
        "summary": "Active responsible units (public); with all=1 retired ones too", "security": [],
        "parameters": [{"name": "all", "in": "query", "schema": {"type": "string", "enum": ["1", "true"]},
                        "description": "list retired units too (active: false), to name the unit of older tickets"}],
        "responses": {"200": _json({"type": "array", "items": _ref("Unit")})}}},
    "/api/v1/auth/token": {
        "post": {"summary": "Trade a user name and password for a bearer token (HOTLINE_API_TOKEN_HOURS)",
                 "security": [],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Credentials")}}},
                 "responses": {"200": _json(_ref("Token")), **_errors(401, 422, 429)}},
        "delete": {"summary": "Revoke the bearer token of this request", "security": BEARER,
                   "responses": {"200": _json(_object({"revoked": BOOL})), **_errors(401)}}},
    "/api/v1/staff/reply_templates": {
        "get": {"summary": "Reply templates (常用语) the user is offered: their unit's, then the city-wide ones",
                "security": BEARER,
                "responses": {"200": _json(_object({"templates": {"type": "array", "items": _ref("ReplyTemplate")},
                                                    "limit": INT})), **_errors(401)}},
        "post": {"summary": "Add a template to the list the user keeps (unit staff: their unit's; admins: the "
                            "city-wide one; others 403)", "security": BEARER,
                 "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ReplyTemplateBody")}}},
                 "responses": {"201": _json(_ref("ReplyTemplate")), **_errors(401, 403, 422)}}},
    "/api/v1/staff/reply_templates/{template_id}": {
        "put": {"summary": "Change a template of the list the user keeps (another unit's: 404)", "security": BEARER,
                "parameters": [TEMPLATE_ID],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ReplyTemplateBody")}}},
                "responses": {"200": _json(_ref("ReplyTemplate")), **_errors(401, 403, 404, 422)}},
        "delete": {"summary": "Delete a template of the list the user keeps (another unit's: 404)",
                   "security": BEARER, "parameters": [TEMPLATE_ID],
                   "responses": {"200": _json(_object({"deleted": INT})), **_errors(401, 403, 404)}}},
    "/api/v1/staff/handovers": {
        "get": {"summary": "交接班: the handovers not yet taken over (接班), newest first (20 shown, count whole), and "
                           "the user's own shift so far (their filed tickets still waiting, the open callbacks, those the "
                           "user tried without reaching anyone first: own true, with last_attempt_by); "
                           "operators, supervisors and admins, others 403", "security": BEARER,
                "responses": {"200": _json(_object({"pending": {"type": "array", "items": _ref("ShiftHandover")},
                                                    "count": INT, "shift": {"type": "object"}})),
                              **_errors(401, 403)}},
        "post": {"summary": "交班: hand the shift over with a note (1-1000 characters); the counts listed now are "
                            "kept with it and logged in the staff activity log", "security": BEARER,
                 "requestBody": {"required": True, "content": {"application/json": {"schema": _object(
                     {"note": {**TEXT, "maxLength": 1000}}, ("note",))}}},
                 "responses": {"201": _json(_ref("ShiftHandover")), **_errors(401, 403, 422)}}},
    "/api/v1/staff/handovers/{handover_id}/acknowledge": {"post": {
        "summary": "接班: take over another operator's handover, once (409 once someone has)", "security": BEARER,
        "parameters": [{"name": "handover_id", "in": "path", "required": True, "schema": INT}],
        "responses": {"200": _json(_ref("ShiftHandover")), **_errors(401, 403, 404, 409)}}},
    "/api/v1/staff/tickets": {"get": {
        "summary": "Tickets the user may see (unit staff: their unit's), newest first, 50 a page",
        "security": BEARER,
        "parameters": [{"name": "state", "in": "query", "schema": TEXT},
                       {"name": "unit", "in": "query", "schema": TEXT, "description": "unit code"},
                       {"name": "q", "in": "query", "schema": TEXT, "description": "number, phone or words"},
                       {"name": "updated_since", "in": "query", "schema": WHEN,
                        "description": "ISO 8601 with its offset (encode + as %2B; none: China time): tickets "
                                       "with an event at or after it, for an incremental sync; not with words in q"},
                       {"name": "page", "in": "query", "schema": {**INT, "minimum": 1}}, CURSOR],
        "responses": {"200": _json(_ref("TicketPage")), **_errors(401, 422)}}},
    "/api/v1/staff/notices": {"get": {
        "summary": "Notices units were told (near due, overdue, escalation, digest), newest first, 50 a "
                   "page; unit staff see their unit's, supervisors and admins all, operators none; with "
                   "mine=1, a supervisor's or admin's own notices (their own and their role's) instead",
        "security": BEARER,
        "parameters": [{"name": "unread", "in": "query", "schema": {"type": "string", "enum": ["1", "0"]}},
                       {"name": "mine", "in": "query", "schema": {"type": "string", "enum": ["1", "0"]},
                        "description": "1: the supervisor's or admin's own notices (SupervisorNoticePage); "
                                       "403 for anyone else"},
                       {"name": "page", "in": "query", "schema": {**INT, "minimum": 1}}, CURSOR],
        "responses": {"200": _json({"oneOf": [_ref("NoticePage"), _ref("SupervisorNoticePage")]}),
                      **_errors(401, 403, 422)}}},
    "/api/v1/calls/live": {"get": {
        "summary": "The call wallboard's figures now (话务实时监控): callers waiting, agents by state, today's "
                   "calls and rates, callbacks pending, alarms; operators, supervisors and admins",
        "security": BEARER, "responses": {"200": _json(_ref("CallsLive")), **_errors(401, 403)}}},
    "/api/v1/staff/tickets/{number}": {"get": {
        "summary": "One ticket: timeline, allowed actions, dispute, extension, flag, duplicates",
        "security": BEARER, "parameters": [NUMBER],
        "responses": {"200": _json(_ref("TicketDetail")), **_errors(401, 404)}}},
    "/api/v1/staff/tickets/{number}/similar": {"get": {
        "summary": "Similar open tickets (possible duplicates), with scores", "security": BEARER,
        "parameters": [NUMBER], "responses": {"200": _json(_ref("Similar")), **_errors(401, 404)}}},
    "/api/v1/staff/tickets/{number}/attachments/{attachment_id}": {"get": {
        "summary": "One photo of the ticket (its metadata stripped), for a user who may see the ticket",
        "security": BEARER,
        "parameters": [NUMBER, {"name": "attachment_id", "in": "path", "required": True, "schema": INT}],
        "responses": {"200": {"description": "the image; Content-Type image/jpeg, image/png or image/webp, "
                              "X-Content-Type-Options: nosniff, Content-Disposition inline with filename*, "
                              "ETag, Cache-Control: private, max-age=3600 (the bytes never change under "
                              "the id); send If-None-Match with the ETag to get 304 without the bytes",
                              "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}}},
                      "304": {"description": "unchanged since the ETag sent in If-None-Match"},
                      **_errors(401, 404)}},
        "delete": {
            "summary": "删除图片: remove a photo added by mistake (its bytes deleted, a detach event kept)",
            "description": "By the staff member who added it, or a supervisor or admin, while the ticket is open. "
                           "Body (or query): reason (required), expected_version?",
            "security": BEARER,
            "parameters": [NUMBER, {"name": "attachment_id", "in": "path", "required": True, "schema": INT}],
            "requestBody": {"required": False, "content": {"application/json": {"schema": _object(
                {"reason": {"type": "string"}, "expected_version": INT}, ("reason",))}}},
            "responses": {"200": _json(_object({"number": {"type": "string"}, "version": INT, "removed": INT,
                                                "file_name": {"type": "string"}, "sha256": {"type": "string"},
                                                "reason": {"type": "string"}},
                                               ("number", "version", "removed", "file_name", "sha256", "reason"))),
                          **_errors(401, 403, 404, 409, 422)}}},
    "/api/v1/staff/tickets/{number}/attachments/{attachment_id}/thumbnail": {"get": {
        "summary": "The photo's thumbnail (a JPEG at most 320 pixels on its longest side, drawn upright), "
                   "under the photo's rules",
        "security": BEARER,
        "parameters": [NUMBER, {"name": "attachment_id", "in": "path", "required": True, "schema": INT}],
        "responses": {"200": {"description": "image/jpeg; headers as for the photo, its own ETag",
                              "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
                      "304": {"description": "unchanged since the ETag sent in If-None-Match"},
                      "404": _json(_ref("Error"), "没有此工单或图片，或这张旧图片无法生成缩略图（reason "
                                                   "thumbnail_unreadable：图片已损坏，原图仍可下载）"),
                      **_errors(401)}}},
    "/api/v1/staff/tickets/{number}/refetch_media": {"post": {
        "summary": "重新获取: fetch a picture message's photo given up (the ticket's media_fetches) again",
        "description": "As the ticket page's button: a new round of attempts, due at once, and a refetch_media "
                       "event in the ticket's log. Operators, supervisors and admins; others 403 before the body "
                       "is read. 404 media_fetch_not_found for a fetch not of this ticket; 409 "
                       "media_fetch_not_given_up for one still under way or attached",
        "security": BEARER, "parameters": [NUMBER],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _object(
            {"fetch_id": INT}, ("fetch_id",))}}},
        "responses": {"200": _json(_object({"number": TEXT, "version": INT, "fetch": {
            "type": "object", "description": "the fetch as the ticket's media_fetches lists it, now pending"}},
            ("number", "version", "fetch"))), **_errors(401, 403, 404, 409, 422)}}},
    "/api/v1/staff/tickets/{number}/{action}": {"post": {
        "summary": "Take a staff action on the ticket",
        "description": "Bodies: " + "; ".join(
            f"{name} {{{', '.join(n + ('' if n in required else '?') for n in body)}}}"
            for name, (body, required) in ACTION_BODIES.items()) + ". Each may add expected_version.",
        "security": BEARER,
        "parameters": [NUMBER, {"name": "action", "in": "path", "required": True,
                                "schema": {"type": "string", "enum": list(ACTIONS)}}],
        "requestBody": {"content": {"application/json": {"schema": _ref("ActionBody")}}},
        "responses": {"200": _json(_ref("ActionResult")), **_errors(401, 403, 404, 409, 422)}}},
    "/api/v1/staff/tickets/{number}/override-request/refuse": {"post": {
        "summary": "A supervisor refuses the lead unit's open request to resolve first (the refuse_override "
                   "action; override-request is request_override, and override_parts agrees)",
        "security": BEARER, "parameters": [NUMBER],
        "requestBody": {"content": {"application/json": {"schema": _ref("ActionBody")}}},
        "responses": {"200": _json(_ref("ActionResult")), **_errors(401, 403, 404, 409, 422)}}},
    "/api/v1/hotspots": {"get": {
        "summary": "热点: rising topics (category x township x day against its own baseline's days of the same "
                   "kind, working day or rest day; Poisson score) "
                   "and 多人反映 clusters of the period; supervisors and admins",
        "security": BEARER,
        "parameters": [{"name": "since", "in": "query", "schema": {"type": "string", "format": "date"},
                        "description": "default: until"},
                       {"name": "until", "in": "query", "schema": {"type": "string", "format": "date"},
                        "description": "default: today (China time); at most 31 days"}],
        "responses": {"200": _json(_object({
            "period": {"type": "object"}, "rules": {"type": "object"},
            "rising": {"type": "array", "items": _object({
                "day": TEXT, "topic": {"type": "array", "items": TEXT}, "level": INT, "category": TEXT,
                "township": TEXT, "place": TEXT, "count": INT,
                "day_kind": {"type": "string", "enum": ["workday", "rest_day"]},
                "baseline_kind": {"type": "string", "enum": ["workday", "rest_day", "all"]},
                "baseline_tickets": INT, "baseline_days": INT,
                "expected": FLOAT, "ratio": FLOAT, "p_value": FLOAT, "score": FLOAT})},
            "clusters": {"type": "array", "items": _object({
                "representative": {"type": "object"}, "count": INT, "citizens": INT, "channels": {"type": "object"},
                "places": {"type": "array", "items": {"type": "object"}}, "categories": {"type": "object"},
                "open": INT, "first_received": TEXT, "last_received": TEXT, "mean_similarity": FLOAT,
                "tickets": {"type": "array", "items": {"type": "object"}}})}})),
            **_errors(401, 403, 422)}}},
    "/api/v1/assessment": {"get": {
        "summary": "考核: each unit's month (响应率, 办结率, 满意率, on-time rate with Wilson intervals, returns, "
                   "disputes), weighted score and tier A-D (none when the interval is too wide); "
                   "supervisors and admins",
        "security": BEARER,
        "parameters": [{"name": "month", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                        "description": "YYYY-MM; default: last month"}],
        "responses": {"200": _json(_object({
            "month": TEXT, "period": {"type": "object"}, "rules": {"type": "object"}, "tiers": {"type": "object"},
            "units": {"type": "array", "items": _object({
                "unit_code": TEXT, "unit_name": TEXT, "unit_kind": TEXT, "transfers": INT,
                "response": {"type": "object"}, "resolution": {"type": "object"}, "satisfaction": {"type": "object"},
                "on_time": {"type": "object"}, "returned": INT, "overdue": INT, "disputes": INT,
                "disputes_upheld": INT, "score": FLOAT, "score_interval": {"type": "array", "items": FLOAT},
                "tier": {"type": "string", "enum": ["A", "B", "C", "D"], "nullable": True}, "tier_label": TEXT})}})),
            **_errors(401, 403, 422)}}},
    "/api/v1/quality": {"get": {
        "summary": "质检平均分: per operator, the inspected tickets received in the month (China days) and the "
                   "sum of their totals / how many (out of full_marks); supervisors and admins",
        "security": BEARER,
        "parameters": [{"name": "month", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                        "description": "YYYY-MM; default: this month"}],
        "responses": {"200": _json(_object({
            "month": TEXT, "period": {"type": "object"}, "full_marks": INT,
            "checklist": {"type": "array", "items": _object({"item": TEXT, "name": TEXT, "points": INT})},
            "operators": {"type": "array", "items": _object({
                "operator": TEXT, "inspected": INT, "points": {**INT, "description": "the totals added up"},
                "average": {**FLOAT, "nullable": True}})}})),
            **_errors(401, 403, 422)}}},
    "/api/v1/quality/inspections": {
        "get": {"summary": "质检 results, newest first, 50 a page: an operator's own (anyone else's 403); supervisors "
                           "and admins everyone's, or one operator's",
                "security": BEARER,
                "parameters": [{"name": "operator", "in": "query", "schema": TEXT,
                                "description": "username of the operator whose inspections (422 unknown)"},
                               {"name": "page", "in": "query", "schema": {**INT, "minimum": 1}}],
                "responses": {"200": _json(_object({
                    "inspections": {"type": "array", "items": _QUALITY_INSPECTION}, "page": INT, "pages": INT,
                    "total": INT, "next_page": {**INT, "nullable": True}})), **_errors(401, 403, 422)}},
        "post": {"summary": "质检 of one ticket an operator filed: each checklist item scored within its points "
                            "(score_reply only for a ticket answered at intake, 直接办结; otherwise full), once a "
                            "ticket (409), never one's own (403); supervisors and admins",
                 "security": BEARER,
                 "requestBody": {"required": True, "content": {"application/json": {"schema": _object({
                     "number": TEXT, "score_service": {**INT, "minimum": 0, "maximum": 20},
                     "score_intake": {**INT, "minimum": 0, "maximum": 30},
                     "score_routing": {**INT, "minimum": 0, "maximum": 30},
                     "score_reply": {**INT, "minimum": 0, "maximum": 20}, "comment": {**TEXT, "maxLength": 1000}},
                     ("number", "score_service", "score_intake", "score_routing"))}}},
                 "responses": {"201": _json(_QUALITY_INSPECTION), **_errors(401, 403, 404, 409, 422)}}},
    "/api/v1/openapi.json": {"get": {
        "summary": "This description", "security": [], "responses": {"200": _json({"type": "object"})}}},
}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "12345 citizen hotline API", "version": "1",
             "description": "Public intake and figures, and the staff API (bearer tokens). Errors are JSON "
                            "{error, message (中文), reason?, field?, detail?}. Every instant is UTC to the "
                            "second with Z (2026-12-03T01:55:10Z); a day is YYYY-MM-DD, China time."},
    "paths": PATHS,
    "components": {"schemas": SCHEMAS,
                   "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
}


async def openapi(_request: Request) -> Response:
    return JSONResponse(SPEC)


routes = [Route("/api/v1/openapi.json", openapi, methods=["GET"])]
