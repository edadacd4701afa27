"""What the hotline tells citizens by text message, and when it keeps quiet.

Every text of the SMS channel is filled here (notifications and replies alike), from the
sentences in dispatch.vocabulary, where wording and length are reviewed with the others.
Also the rules around them: which ticket events notify whom, opt-outs (TD/STOP ... START),
and the flood throttle.
"""
from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from dispatch.clock import CHINA, this_year, utcnow
from dispatch.kb_text import shown_reply
from dispatch.masking import mask_reply_for_citizen, mask_text
from dispatch.models import SmsInbound, SmsOptOut, Ticket, TicketEvent
from dispatch import vocabulary as words
from dispatch.vocabulary import LABELS_ZH, UNIT_SIGNATURE_ZH, Channel

SIGNATURE = words.SMS_SIGNATURE_ZH
OPT_OUT_HINT = words.OPT_OUT_HINT_ZH
# A Chinese text is sent as UCS-2: 70 characters in one segment, 67 per segment when
# concatenated. Two segments keep a notification to one message on every handset.
MAX_SEGMENTS = 2


class Kind(str, enum.Enum):
    """Notifications, named after the change they tell about."""

    RECEIVED = "received"
    TRANSFERRED = "transferred"
    RESOLVED = "resolved"     # carries the rating question (回访)
    REOPENED = "reopened"
    EXTENDED = "extended"           # a supervisor gave the unit more time: the new deadline
    MERGED = "merged"               # joined to a main ticket about the same matter
    MAIN_RESOLVED = "main_resolved"  # the main ticket has a result: carries the rating question
    # A repeat through the web or a call is told only that it was joined; the number and
    # code of the open ticket go here, to the phone on file.
    REPEAT_CODE = "repeat_code"


# Event action -> notification. Other actions (accept, return, escalate...) are internal.
KIND_OF_ACTION = {"receive": Kind.RECEIVED, "transfer": Kind.TRANSFERRED, "resolve": Kind.RESOLVED,
                  "reopen": Kind.REOPENED, "merge": Kind.MERGED, "main_resolved": Kind.MAIN_RESOLVED,
                  "approve_extension": Kind.EXTENDED}


# ---- length ---------------------------------------------------------------------------

_GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")


def segments(text: str) -> int:
    """How many SMS segments the text takes (GSM-7 if it can, else UCS-2 code units)."""
    if all(ch in _GSM7 for ch in text):
        single, multi, length = 160, 153, len(text)
    else:
        single, multi, length = 70, 67, len(text.encode("utf-16-le")) // 2
    return 1 if length <= single else math.ceil(length / multi)


def _fit(template: str, variable: str, max_segments: int = MAX_SEGMENTS, pointers: tuple[str, ...] = ()) -> str:
    """Fill `{v}` in the template, shortening the variable part until the text fits. A
    shortened variable ends with "…" and the first of `pointers` (where to read the rest)
    that leaves room for some of it."""
    text = template.replace("{v}", variable)
    if segments(text) <= max_segments:
        return text
    for pointer in (*pointers, ""):
        for keep in range(len(variable) - 1, 0, -1):
            text = template.replace("{v}", variable[:keep].rstrip() + "…" + pointer)
            if segments(text) <= max_segments:
                return text
    return template.replace("{v}", "")


def _day(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(CHINA)
    if not this_year(moment):
        return words.SMS_YEAR_DAY_ZH.format(year=local.year, month=local.month, day=local.day)
    return words.SMS_DAY_ZH.format(month=local.month, day=local.day)


# ---- notifications --------------------------------------------------------------------

def can_receive_sms(phone: str | None) -> bool:
    """Mobiles only: a Chinese landline (+86 then an area code) cannot take a text."""
    if not phone:
        return False
    return not phone.startswith("+86") or phone.startswith("+861")


def wants_notification(ticket: Ticket, event: TicketEvent) -> Kind | None:
    """The notification an event calls for, if any."""
    kind = KIND_OF_ACTION.get(event.action)
    if event.action == "repeat_contact":
        data = event.data or {}
        # A text's own reply (to that same phone) already said where it went.
        if data.get("channel") != Channel.SMS.value:
            kind = Kind.REPEAT_CODE
    if kind is None or not can_receive_sms(ticket.phone):
        return None
    if kind is Kind.RECEIVED and ticket.channel == Channel.SMS.value:
        return None  # the reply to the citizen's own text already gave number and code
    if kind is Kind.REOPENED and (event.data or {}).get("channel") == Channel.SMS.value:
        return None  # reopened by the citizen's own 不满意 text: the reply to it says where it went
    return kind


# The words of each notification after the signature, with ${name} for what varies: the
# same text is the approved template at a provider that sends by template (Alibaba Cloud),
# and notification_text() fills it for one that sends free text (Twilio).
TEMPLATES: dict[Kind, str] = {Kind(kind): text for kind, text in words.NOTIFICATIONS_ZH.items()}
REPLY_CUT_LINK = words.REPLY_CUT_LINK_ZH
REPLY_CUT = words.REPLY_CUT_ZH
# The one part of a notification that is shortened when the whole would not fit.
_SHORTENED = {Kind.TRANSFERRED: "unit", Kind.RESOLVED: "reply", Kind.MAIN_RESOLVED: "reply", Kind.REOPENED: "unit"}
# Texts that are not notifications (replies to a citizen's text, notices to a unit's duty
# phone) are one variable filled with the words after the signature.
FREE_TEXT = "${content}"
FREE_TEXT_KINDS = ("reply", "unit_overdue", "unit_escalation", "unit_digest")


def provider_templates() -> dict[str, str]:
    """Every kind of text the outbox sends -> its template (what to have approved at a
    provider that sends by template)."""
    return {**{kind.value: text for kind, text in TEMPLATES.items()}, **{kind: FREE_TEXT for kind in FREE_TEXT_KINDS}}


def fill(template: str, params: dict[str, str]) -> str:
    for name, value in params.items():
        template = template.replace("${" + name + "}", value)
    return template


def notification_params(kind: Kind, ticket: Ticket, unit_name: str | None,
                        status_url: str | None = None) -> dict[str, str]:
    """The template's variables for this ticket, the varying one shortened so that the
    signed text fits MAX_SEGMENTS. `status_url`: the public status page, named in a reply
    cut short."""
    params = {"number": ticket.number}
    if kind in (Kind.RECEIVED, Kind.REPEAT_CODE):
        params["code"] = ticket.query_code
    elif kind is Kind.TRANSFERRED:
        params["deadline"] = words.SMS_DEADLINE_ZH.format(day=_day(ticket.deadline)) if ticket.deadline else ""
        params["unit"] = unit_name or words.SMS_ANY_UNIT_ZH
    elif kind is Kind.REOPENED:
        params["unit"] = unit_name or words.SMS_ANY_UNIT_ZH
    elif kind is Kind.EXTENDED:
        params["deadline"] = _day(ticket.deadline)
    elif kind in (Kind.RESOLVED, Kind.MAIN_RESOLVED):
        # The template puts its own 。 after the reply: one of the reply's own would double it.
        # Made plain before its lines are joined: Markdown's marks are read line by line.
        reply = " ".join(shown_reply(ticket.reply or "").split())
        params["reply"] = citizen_reply(ticket, reply).rstrip("。.；;，, ")
    shortened = _SHORTENED.get(kind)
    if shortened is not None:
        template = SIGNATURE + fill(TEMPLATES[kind], {k: v for k, v in params.items() if k != shortened})
        template = template.replace("${" + shortened + "}", "{v}")
        pointers: tuple[str, ...] = ()
        if shortened == "reply":
            pointers = ((REPLY_CUT_LINK.format(url=status_url),) if status_url else ()) + (REPLY_CUT,)
        whole = _fit(template, params[shortened], pointers=pointers)
        prefix, _, suffix = template.partition("{v}")
        params[shortened] = whole[len(prefix):len(whole) - len(suffix)]
    return params


def citizen_reply(ticket: Ticket, reply: str) -> str:
    """A unit's reply as the ticket's own citizen reads it (a text to the phone on file, a
    lookup with the query code): the numbers the unit gives to call back stay whole. A
    merged ticket's reply was written to the main ticket's citizen, whose data this one
    must not read: it stays masked as on the public pages."""
    names = [ticket.name] if ticket.name else []
    if ticket.merged_into_id is not None:
        return mask_text(reply, names)
    return mask_reply_for_citizen(reply, names, ticket.phone)


def notification_text(kind: Kind, ticket: Ticket, unit_name: str | None, status_url: str | None = None) -> str:
    return SIGNATURE + fill(TEMPLATES[kind], notification_params(kind, ticket, unit_name, status_url))


def free_text_params(body: str) -> dict[str, str]:
    """A text that is not a notification, as the one variable of FREE_TEXT (the provider
    adds the signature)."""
    for signature in (SIGNATURE, UNIT_SIGNATURE_ZH):
        body = body.removeprefix(signature)
    return {"content": body}


# ---- replies to a citizen's text (TwiML) ----------------------------------------------

def reply_received(ticket: Ticket) -> str:
    return SIGNATURE + words.REPLY_RECEIVED_ZH.format(number=ticket.number, code=ticket.query_code)


def reply_repeat(ticket: Ticket) -> str:
    return SIGNATURE + words.REPLY_REPEAT_ZH.format(number=ticket.number)


def reply_attached(ticket: Ticket) -> str:
    return SIGNATURE + words.REPLY_ATTACHED_ZH.format(number=ticket.number)


def reply_status(view: dict[str, object]) -> str:
    """The state as the public web view tells it (same masking, same labels)."""
    text = SIGNATURE + words.REPLY_STATUS_ZH.format(number=view["number"], state=view["state_label"])
    if view.get("unit"):
        text += words.REPLY_STATUS_UNIT_ZH
    if view.get("deadline") and view.get("bucket") != "resolved":
        text += words.SMS_DEADLINE_ZH.format(day=_day(dt.datetime.fromisoformat(str(view["deadline"]))))
    if view.get("overdue"):
        text += words.REPLY_STATUS_OVERDUE_ZH
    return _fit(text + words.REPLY_STATUS_END_ZH, str(view.get("unit") or ""))


def reply_rated(ticket: Ticket, rating: str, unit_name: str | None = None) -> str:
    """The answer to a rating by text. An unsatisfied one says all the reopened notification
    would (which is not sent for it): who handles the ticket again, and by when. One whose unit
    was retired with no successor is back at dispatch (returned) to go to another unit."""
    if ticket.state in ("reopened", "returned"):
        deadline = words.SMS_DEADLINE_ZH.format(day=_day(ticket.deadline)) if ticket.deadline else ""
        return _fit(SIGNATURE + words.REPLY_REOPENED_ZH.format(number=ticket.number, v="{v}", deadline=deadline),
                    unit_name or words.SMS_ANY_UNIT_ZH)
    return SIGNATURE + words.REPLY_RATED_ZH.format(rating=LABELS_ZH[rating], number=ticket.number)


def reply_how_to_rate(waiting: Ticket | None) -> str:
    """The answer to 评价 alone: the rating question of the ticket waiting for one, if any."""
    if waiting is None:
        return SIGNATURE + words.REPLY_HOW_TO_RATE_LATER_ZH
    return SIGNATURE + words.REPLY_HOW_TO_RATE_ZH.format(number=waiting.number)


REPLY_NOT_FOUND = SIGNATURE + words.REPLY_NOT_FOUND_ZH
REPLY_NO_TICKETS = SIGNATURE + words.REPLY_NO_TICKETS_ZH
REPLY_NOTHING_TO_RATE = SIGNATURE + words.REPLY_NOTHING_TO_RATE_ZH
REPLY_NOTHING_TO_ADD_TO = SIGNATURE + words.REPLY_NOTHING_TO_ADD_TO_ZH
REPLY_OPTED_OUT = SIGNATURE + words.REPLY_OPTED_OUT_ZH
REPLY_OPTED_IN = SIGNATURE + words.REPLY_OPTED_IN_ZH
REPLY_EMPTY = SIGNATURE + words.REPLY_EMPTY_ZH
REPLY_SPOOLED = SIGNATURE + words.REPLY_SPOOLED_ZH


def reply_throttled(window: dt.timedelta) -> str:
    """The one answer to a number over the flood throttle: this text was not taken, and
    when to send again (a window without texts lets the next one through)."""
    minutes = max(1, math.ceil(window.total_seconds() / 60))
    return SIGNATURE + words.REPLY_THROTTLED_ZH.format(minutes=minutes)


REPLY_INVALID = SIGNATURE + words.REPLY_INVALID_ZH


def reply_lookups_refused(retry_after: int) -> str:
    """A status query refused for too many wrong query codes (from this number, or for the
    ticket from anywhere), with the wait in whole minutes."""
    return SIGNATURE + words.REPLY_LOOKUPS_REFUSED_ZH.format(minutes=max(1, math.ceil(retry_after / 60)))


# ---- opt-outs -------------------------------------------------------------------------

def opt_out(session: Session, phone: str, keyword: str, now: dt.datetime | None = None) -> None:
    if session.get(SmsOptOut, phone) is None:
        session.add(SmsOptOut(phone=phone, opted_out_at=now or utcnow(), keyword=keyword[:20]))
        session.flush()


def opt_in(session: Session, phone: str) -> None:
    found = session.get(SmsOptOut, phone)
    if found is not None:
        session.delete(found)
        session.flush()


def is_opted_out(session: Session, phone: str) -> bool:
    return session.get(SmsOptOut, phone) is not None


# ---- flood throttle -------------------------------------------------------------------

_RECENT_FROM = (select(func.count()).select_from(SmsInbound)
                .where(SmsInbound.sender == bindparam("sender"), SmsInbound.received_at > bindparam("since")))
# How a text refused by the throttle is logged (inbox.log_inbound's intent).
THROTTLED = "throttled"
_WARNED = (select(SmsInbound.id)
           .where(SmsInbound.sender == bindparam("sender"), SmsInbound.received_at > bindparam("since"),
                  SmsInbound.intent == THROTTLED, SmsInbound.reply.is_not(None)).limit(1))


class Verdict(enum.Enum):
    ALLOW = "allow"
    WARN = "warn"        # the first message refused in the window: tell the sender once
    SILENT = "silent"    # later ones: no reply, so two auto-responders cannot ping-pong


@dataclass(frozen=True)
class Throttle:
    """At most `max_messages` texts from one number within `window`; the rest are kept
    (for the record and this count) but neither become tickets nor get answers."""

    max_messages: int = 10
    window: dt.timedelta = dt.timedelta(minutes=10)

    def verdict(self, session: Session, sender: str, now: dt.datetime) -> tuple[Verdict, int]:
        """Judge a new message by the ones logged before it."""
        # The log is written with plain INSERTs (inbox.log_inbound): no autoflush is needed.
        recent = session.connection().execute(_RECENT_FROM, {"sender": sender, "since": now - self.window})
        earlier = recent.scalar() or 0
        if earlier < self.max_messages:
            return Verdict.ALLOW, earlier
        # Warned once in the window, then silent. Not "the first over the limit": that one may
        # have been let through (a rating asked for), and the next refused one must say so.
        since = {"sender": sender, "since": now - self.window}
        warned = session.connection().execute(_WARNED, since).first() is not None
        return (Verdict.SILENT if warned else Verdict.WARN), earlier
