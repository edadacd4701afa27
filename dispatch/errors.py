"""Domain errors. Each carries a reason code and the data behind it; web/ turns them into
HTTP, and web/messages.py holds the Chinese words of every reason.

    raise InvalidInput("phone", Reason.INVALID_PHONE, value=raw)

The older form, a sentence instead of a reason (`InvalidInput("phone", "请填写联系电话")`),
still works: a Chinese sentence reaches people as it is written.
"""
from __future__ import annotations

import enum
from typing import Any


class Reason(enum.StrEnum):
    """Why something was refused. Every member has Chinese words in web/messages.py (a test
    walks them); the keyword data a raise passes along fills those words in."""

    # -- input ------------------------------------------------------------------------------
    REQUIRED = "required"
    TOO_LONG = "too_long"                      # limit
    REPLY_TOO_SHORT = "reply_too_short"        # limit, length (dispatch/replies.py)
    NOT_TEXT = "not_text"
    NOT_INTEGER = "not_integer"
    NOT_BOOLEAN = "not_boolean"
    NOT_POSITIVE = "not_positive"
    DECISION_REQUIRED = "decision_required"
    OUT_OF_RANGE = "out_of_range"              # low, high
    INVALID_PHONE = "invalid_phone"            # value
    INVALID_DUTY_PHONE = "invalid_duty_phone"  # value
    PHONE_REQUIRED = "phone_required"          # channel
    NO_PHONE_TO_CALL = "no_phone_to_call"
    NO_PHONE_TO_FLAG = "no_phone_to_flag"
    UNKNOWN_UNIT = "unknown_unit"              # code
    INACTIVE_UNIT = "inactive_unit"            # unit
    UNIT_REQUIRED = "unit_required"            # what: "unit" or "sub_unit"
    BAD_UNIT_LIST = "bad_unit_list"            # a list of unit codes was expected
    CO_UNIT_IS_LEAD = "co_unit_is_lead"        # unit
    CO_UNIT_REPEATED = "co_unit_repeated"      # unit
    NOT_A_SUB_UNIT = "not_a_sub_unit"          # unit, parent
    UNKNOWN_CATEGORY = "unknown_category"      # value
    UNKNOWN_TICKET = "unknown_ticket"          # number
    MERGE_INTO_ITSELF = "merge_into_itself"
    MERGE_TARGET_CLOSED = "merge_target_closed"  # number, state
    NOT_CALLERS_OPEN_TICKET = "not_callers_open_ticket"  # number: 受理并并入 into what is not the caller's open ticket
    BAD_OUTCOME = "bad_outcome"
    BAD_HANDOVER_NUMBER = "bad_handover_number"
    EMERGENCY_NOT_ANSWERED = "emergency_not_answered"   # numbers: the emergency numbers the words point to
    NO_PROPOSAL = "no_proposal"                # reason: routing's, why it proposed no unit
    NOT_PROPOSED = "not_proposed"              # code: a unit routing does not propose (now)
    NO_UNIT_FOR_CATEGORY = "no_unit_for_category"  # category, code
    BAD_REQUEST_TYPE = "bad_request_type"
    BAD_URGENCY = "bad_urgency"
    BAD_STATE = "bad_state"
    BAD_STATE_CHOICE = "bad_state_choice"      # state_names: a page's list, in words alone
    BAD_CHANNEL = "bad_channel"
    BAD_DUE = "bad_due"
    BAD_PAGE = "bad_page"
    BAD_CURSOR = "bad_cursor"
    NOT_WITH_WORDS = "not_with_words"
    ALREADY_RATED = "already_rated"
    TOO_MANY_PHRASES = "too_many_phrases"      # limit
    TOO_MANY_TERMS = "too_many_terms"          # limit
    PHRASE_LENGTH = "phrase_length"            # phrase, low, high
    CALLBACK_NOTE_REQUIRED = "callback_note_required"
    PAGE_EXPIRED = "page_expired"
    RATING_REQUIRED = "rating_required"
    CANNOT_RATE = "cannot_rate"
    TYPE_AND_URGENCY_REQUIRED = "type_and_urgency_required"
    BAD_AGENT = "bad_agent"                    # the operator's phone, e.g. PJSIP/7001
    NO_AGENT = "no_agent"
    NO_PBX = "no_pbx"
    BAD_PAUSE_REASON = "bad_pause_reason"      # value
    NOT_YOUR_PHONE = "not_your_phone"          # interface: an operator pauses only their own
    PAUSE_REFUSED = "pause_refused"            # interface, message: the PBX answered Error
    PAUSE_NO_PBX = "pause_no_pbx"
    BAD_CALENDAR_KIND = "bad_calendar_kind"    # value
    BAD_CALENDAR_LINE = "bad_calendar_line"    # value
    WORKDAY_NOT_WEEKEND = "workday_not_weekend"  # day
    DAY_REPEATED = "day_repeated"              # day, first (line)
    DAY_ALREADY_SET = "day_already_set"        # day, calendar_kind, festival
    NOTHING_TO_IMPORT = "nothing_to_import"
    NOTHING_CORRECTED = "nothing_corrected"    # 修改受理信息 with every field as it was
    UNKNOWN_FIELD = "unknown_field"            # name
    LINE_NOT_JSON_OBJECT = "line_not_json_object"
    TEMPLATE_TITLE_TAKEN = "template_title_taken"  # title: a reply template's, taken in its owner's list
    TOO_MANY_TEMPLATES = "too_many_templates"  # limit
    # -- accounts and tokens (the CLI) ------------------------------------------------------
    PASSWORD_TOO_SHORT = "password_too_short"  # limit
    PASSWORD_TOO_LONG = "password_too_long"    # limit
    PASSWORD_TOO_SIMPLE = "password_too_simple"
    PASSWORD_IS_USERNAME = "password_is_username"
    PASSWORDS_DIFFER = "passwords_differ"
    USERNAME_TAKEN = "username_taken"          # username
    USERNAME_LOOKALIKE = "username_lookalike"  # username, existing
    UNKNOWN_ACCOUNT = "unknown_account"        # username
    ACCOUNT_INACTIVE = "account_inactive"      # username
    UNIT_STAFF_NEED_UNIT = "unit_staff_need_unit"
    BAD_USERNAME = "bad_username"
    BAD_PHONE_EXTENSION = "bad_phone_extension"
    PHONE_EXTENSION_TAKEN = "phone_extension_taken"  # extension, username
    ROLE_REQUIRED = "role_required"
    CANNOT_DEACTIVATE_SELF = "cannot_deactivate_self"
    OWN_ADMIN_ACCOUNT = "own_admin_account"    # what
    LAST_ADMIN = "last_admin"                  # username, what
    NO_ACTIVE_UNIT = "no_active_unit"          # code
    PARENT_NOT_FOUND = "parent_not_found"      # parent
    PARENT_LOOP = "parent_loop"                # path
    UNIT_NAME_TAKEN = "unit_name_taken"        # name, code (of the unit that has it)
    UNIT_HAS_OPEN_WORK = "unit_has_open_work"  # unit, tickets, parts
    SUCCESSOR_IS_ITSELF = "successor_is_itself"  # unit
    SUCCESSOR_NOT_ACTIVE = "successor_not_active"  # code
    CATALOGUE_UNIT_RETIRED = "catalogue_unit_retired"  # unit
    BAD_ACTIVITY_KIND = "bad_activity_kind"    # value
    ONLY_UNIT_STAFF_HAVE_UNIT = "only_unit_staff_have_unit"  # role
    WEBHOOK_URL_INVALID = "webhook_url_invalid"  # value
    WEBHOOK_URL_LOCAL = "webhook_url_local"  # value
    WEBHOOK_URL_PRIVATE = "webhook_url_private"  # value
    # -- configuration files (the CLI and start-up) -----------------------------------------
    FILE_UNREADABLE = "file_unreadable"        # path, error
    FILE_NOT_FOUND = "file_not_found"          # path
    FILE_IS_FOLDER = "file_is_folder"          # path
    FILE_NO_PERMISSION = "file_no_permission"  # path
    NOT_UTF8 = "not_utf8"                      # name
    JSON_NOT_UTF8 = "json_not_utf8"
    BAD_IDEMPOTENCY_KEY = "bad_idempotency_key"          # limit
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    UNKNOWN_CHARSET = "unknown_charset"        # charset
    NOT_IN_CHARSET = "not_in_charset"          # charset
    FORM_TOO_MANY_FIELDS = "form_too_many_fields"   # limit
    FILE_EMPTY = "file_empty"                  # name
    JSON_SYNTAX = "json_syntax"                # name, line, column, problem (json's words), text (the line)
    JSON_SYNTAX_TEXT = "json_syntax_text"      # line, column, problem, text: pasted, not a file
    FILE_PROBLEMS = "file_problems"            # name, count: FileProblems names each
    # A city file's or catalogue's problems name `where`: (section, entry, key), see file_checks.py.
    WRONG_TYPE = "wrong_type"                  # where, should_be, got
    FIELD_MISSING = "field_missing"            # where, key
    EMPTY_VALUE = "empty_value"                # where
    UNKNOWN_KEY = "unknown_key"                # where, key, known
    REPEATED_KEY = "repeated_key"              # where, key
    CATEGORY_UNKNOWN_UNIT = "category_unknown_unit"  # category, code
    LOCAL_CATEGORY_UNKNOWN = "local_category_unknown"  # category
    GAZETTEER_UNKNOWN_UNIT = "gazetteer_unknown_unit"  # code
    PLACE_NAME_TOO_SHORT = "place_name_too_short"  # code, name, low
    PLACE_NAME_REPEATED = "place_name_repeated"  # name, first, second
    RULE_UNKNOWN_UNIT = "rule_unknown_unit"    # number, code
    RULE_TOO_MANY_PHRASES = "rule_too_many_phrases"  # number, limit
    RULE_PHRASE_LENGTH = "rule_phrase_length"  # number, phrase, low, high
    UNITS_FROM_ANOTHER_CITY = "units_from_another_city"  # file, city
    # -- Open311 GeoReport v2 ---------------------------------------------------------------
    LOCATION_REQUIRED = "location_required"
    BAD_COORDINATES = "bad_coordinates"
    BAD_ATTRIBUTE = "bad_attribute"            # code
    BAD_OPEN311_STATUS = "bad_open311_status"  # value
    BAD_DATETIME = "bad_datetime"              # value
    PLUS_AS_SPACE = "plus_as_space"            # value
    UNKNOWN_DEADLINE_CLASS = "unknown_deadline_class"  # code
    CATALOGUE_UNKNOWN_UNIT = "catalogue_unknown_unit"  # where, code
    CATALOGUE_UNKNOWN_CLASS = "catalogue_unknown_class"  # where, code
    CATALOGUE_UNKNOWN_CATEGORY = "catalogue_unknown_category"  # where, depth
    TAXONOMY_HEADER = "taxonomy_header"        # name, header
    TAXONOMY_COLUMNS = "taxonomy_columns"      # name, line, expected, count
    TAXONOMY_EMPTY_CELL = "taxonomy_empty_cell"  # name, line, column
    NOT_AN_IMAGE = "not_an_image"              # name (dispatch/attachments.py)
    IMAGE_TOO_LARGE = "image_too_large"        # name, limit_mb, size_mb
    IMAGE_UNREADABLE = "image_unreadable"      # name (an image's structure, but it cannot be drawn)
    TOO_MANY_IMAGES = "too_many_images"        # limit, already, given
    # -- at the web's door ------------------------------------------------------------------
    UNSTORABLE = "unstorable"
    BODY_TOO_LARGE = "body_too_large"          # limit
    NOT_JSON = "not_json"
    NOT_JSON_OBJECT = "not_json_object"
    BAD_DATE = "bad_date"                      # value
    NO_SUCH_DATE = "no_such_date"              # value: written YYYY-MM-DD, but not on the calendar
    BAD_LEVEL = "bad_level"                    # value
    DATE_OUT_OF_RANGE = "date_out_of_range"    # low, high
    PERIOD_REVERSED = "period_reversed"
    PERIOD_TOO_LONG = "period_too_long"        # limit
    BAD_MONTH = "bad_month"                    # value
    # -- not found --------------------------------------------------------------------------
    TICKET_NOT_FOUND = "ticket_not_found"      # number
    LOOKUP_FAILED = "lookup_failed"            # number + query code did not match
    NO_SUCH_ACTION = "no_such_action"          # action
    NO_TRANSFER = "no_transfer"                # number
    UNIT_NOT_FOUND = "unit_not_found"          # code
    RULE_NOT_FOUND = "rule_not_found"          # rule_id
    CATALOGUE_ENTRY_NOT_FOUND = "catalogue_entry_not_found"  # code
    CALLBACK_NOT_FOUND = "callback_not_found"  # callback_id
    TOKEN_NOT_FOUND = "token_not_found"        # token_id
    NOT_FLAGGED = "not_flagged"                # phone
    TABLE_NOT_FOUND = "table_not_found"        # name
    REPORT_NOT_FOUND = "report_not_found"      # report_id, format
    EXTENSION_NOT_FOUND = "extension_not_found"  # request_id
    ACCOUNT_NOT_FOUND = "account_not_found"    # user_id
    UNIT_RECORD_NOT_FOUND = "unit_record_not_found"  # unit_id
    DAY_NOT_SET = "day_not_set"                # day
    SERVICE_NOT_FOUND = "service_not_found"    # code
    REQUEST_NOT_FOUND = "request_not_found"    # id
    FORMAT_NOT_FOUND = "format_not_found"      # value
    JURISDICTION_NOT_FOUND = "jurisdiction_not_found"  # value
    CLIENT_NOT_FOUND = "client_not_found"      # client_id
    ARTICLE_NOT_FOUND = "article_not_found"    # article_id
    TEMPLATE_NOT_FOUND = "template_not_found"  # template_id
    HANDOVER_NOT_FOUND = "handover_not_found"  # handover_id
    NOT_FILED_BY_STAFF = "not_filed_by_staff"  # number: 质检 is of tickets an operator filed
    ATTACHMENT_NOT_FOUND = "attachment_not_found"  # number, attachment_id
    THUMBNAIL_UNREADABLE = "thumbnail_unreadable"  # attachment_id, name: a stored photo that cannot be drawn
    MEDIA_FETCH_NOT_FOUND = "media_fetch_not_found"  # number, fetch_id
    # -- state and permission ---------------------------------------------------------------
    ILLEGAL_TRANSITION = "illegal_transition"  # state, action, number
    ROLE_NOT_ALLOWED = "role_not_allowed"      # actor, role, what
    NOT_YOUR_UNIT = "not_your_unit"            # actor, what
    NOT_YOUR_ARTICLE = "not_your_article"      # actor
    NOT_YOUR_TEMPLATE = "not_your_template"    # actor: a city-wide reply template, kept by admins
    NO_PART_OF_YOURS = "no_part_of_yours"      # number: no co-handling or forwarded part to act on
    ADMIN_ONLY = "admin_only"                  # actor
    NOT_YOUR_PHOTO = "not_your_photo"          # name: removed only by who added it, or a supervisor
    # -- conflicts --------------------------------------------------------------------------
    CHANGED_BY_OTHERS = "changed_by_others"    # number, version?, seen?
    NO_PENDING_EXTENSION = "no_pending_extension"  # number
    EXTENSION_WAITING = "extension_waiting"    # number
    EXTENSION_DECIDED = "extension_decided"    # status
    EXTENSION_MOOT = "extension_moot"          # number
    ALREADY_ESCALATED = "already_escalated"    # number
    ESCALATED_RECENTLY = "escalated_recently"  # number, count, at (MM-DD HH:MM, China time)
    FOLLOW_UP_TOO_SOON = "follow_up_too_soon"  # number, minutes, last, next (HH:MM, China time)
    DISPUTE_WAITING = "dispute_waiting"        # number
    NO_PENDING_DISPUTE = "no_pending_dispute"  # number
    CALLBACK_DONE = "callback_done"            # callback_id
    CALLBACK_DIALING = "callback_dialing"      # callback_id
    HANDOVER_TAKEN = "handover_taken"          # by: who took the shift over (接班) first
    OWN_HANDOVER = "own_handover"              # the note's own writer: 接班 is the next operator's
    HANDOVER_EXPIRED = "handover_expired"      # hours: nobody took it over within HANDOVER_EXPIRES_AFTER
    ALREADY_INSPECTED = "already_inspected"    # number, by: one 质检 a ticket
    OWN_TICKET_INSPECTION = "own_ticket_inspection"  # number: nobody inspects a ticket they filed
    SCORE_MISSING = "score_missing"            # item, points: a checklist item left unscored
    SCORE_OUT_OF_RANGE = "score_out_of_range"  # item, points: a score past the item's points
    PART_NOT_ACCEPTED = "part_not_accepted"    # number
    PARTS_WAITING = "parts_waiting"            # number, units
    NO_PARTS_WAITING = "no_parts_waiting"      # number
    OVERRIDE_REQUEST_WAITING = "override_request_waiting"  # number
    MEDIA_FETCH_NOT_GIVEN_UP = "media_fetch_not_given_up"  # number, status: only a failed one is fetched again
    NO_OVERRIDE_REQUEST = "no_override_request"  # number
    FORWARD_OPEN = "forward_open"              # number, unit
    PHOTO_KEPT = "photo_kept"                  # number, name: its ticket is finished, or merged away
    ARTICLE_CHANGED = "article_changed"        # article_id, version, seen
    ARTICLE_NOT_OFFERED = "article_not_offered"  # article_id
    TOO_MANY_DEFLECTIONS = "too_many_deflections"  # seconds
    # -- credentials ------------------------------------------------------------------------
    TOKEN_MISSING = "token_missing"
    TOKEN_INVALID = "token_invalid"
    BAD_CREDENTIALS = "bad_credentials"
    API_KEY_MISSING = "api_key_missing"
    API_KEY_INVALID = "api_key_invalid"
    # -- limits -----------------------------------------------------------------------------
    TOO_MANY_INTAKES = "too_many_intakes"      # seconds
    TOO_MANY_LOOKUPS = "too_many_lookups"      # seconds
    TOO_MANY_LOGINS = "too_many_logins"        # seconds
    ACCOUNT_LOCKED = "account_locked"          # seconds
    TOO_MANY_DRAFTS = "too_many_drafts"        # seconds
    # -- storage ----------------------------------------------------------------------------
    READ_ONLY = "read_only"
    DISK_FULL = "disk_full"
    OUT_OF_MEMORY = "out_of_memory"
    UNREACHABLE = "unreachable"


class DispatchError(Exception):
    """Base of every error the domain raises on purpose: a reason and its data, or (the
    older form) a sentence written for people."""

    code = "dispatch_error"

    def __init__(self, reason: Reason | str, /, **params: Any) -> None:
        self.reason: Reason | None = reason if isinstance(reason, Reason) else None
        self.text: str | None = None if isinstance(reason, Reason) else reason
        self.params: dict[str, Any] = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """For the logs: the reason and its data in plain ASCII, or the sentence as written.
        People read web.messages.describe(error) instead."""
        if self.reason is None:
            return self.text or ""
        data = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{self.reason.value} ({data})" if data else self.reason.value

    def __str__(self) -> str:
        return self.message


class InvalidInput(DispatchError):
    """Input that cannot become a ticket or an action (empty body, bad phone number...)."""

    code = "invalid_input"

    def __init__(self, field: str, reason: Reason | str, /, **params: Any) -> None:
        self.field = field
        super().__init__(reason, **params)

    @property
    def message(self) -> str:
        return f"{self.field}: {super().message}"


class FileProblems(InvalidInput):
    """A file people wrote (a city file, the catalogue it names) with mistakes: each of
    `problems` names where one is and what is wrong; nothing of the file was used."""

    def __init__(self, name: str, problems: list[InvalidInput]) -> None:
        self.problems = problems
        super().__init__("city", Reason.FILE_PROBLEMS, name=name, count=len(problems))

    @property
    def message(self) -> str:
        return "; ".join([super().message, *(p.message for p in self.problems)])


class NotFound(DispatchError):
    code = "not_found"


class IllegalTransition(DispatchError):
    """The action is not allowed from the ticket's current state."""

    code = "illegal_transition"

    def __init__(self, state: str, action: str, ticket_number: str | None = None) -> None:
        self.state = state
        self.action = action
        self.ticket_number = ticket_number
        super().__init__(Reason.ILLEGAL_TRANSITION, state=state, action=action, number=ticket_number)


class PermissionDenied(DispatchError):
    """The actor may not do this (e.g. a unit acting on another unit's ticket)."""

    code = "permission_denied"


class Conflict(DispatchError):
    """Someone else changed the ticket first; nothing of this attempt was written."""

    code = "conflict"


class StorageUnavailable(DispatchError):
    """The database cannot take writes now (read-only, full disk, unreachable); nothing of
    this attempt was written, and the same request will work once it is fixed."""

    code = "storage_unavailable"

    def __init__(self, reason: Reason | str, detail: str = "", retry_after: int = 30) -> None:
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(Reason(reason), **({"detail": detail} if detail else {}))


class RateLimited(DispatchError):
    """Too many attempts from one address, at one ticket or for one account: try again
    after `retry_after` seconds (the words say so too, through the `seconds` data)."""

    code = "rate_limited"

    def __init__(self, reason: Reason | str, *, retry_after: int, limit: str) -> None:
        self.retry_after = retry_after
        self.limit = limit
        super().__init__(reason, seconds=retry_after)
