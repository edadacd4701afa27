"""What the hotline tells citizens by text message, and when it keeps quiet.

Every Chinese text of the SMS channel lives here (notifications and replies alike), so
wording and length are reviewed in one place. Also the rules around them: which ticket
events notify whom, opt-outs (TD/STOP ... START), and the flood throttle.
"""
from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from dispatch.clock import CHINA, utcnow
from dispatch.masking import mask_reply_for_citizen, mask_text
from dispatch.models import SmsInbound, SmsOptOut, Ticket, TicketEvent
from dispatch.vocabulary import LABELS_ZH, UNIT_SIGNATURE_ZH, Channel

SIGNATURE = "【12345】"  # Chinese carriers require a bracketed sender signature
OPT_OUT_HINT = "回复TD退订"
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
    return f"{local.month}月{local.day}日"


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
TEMPLATES: dict[Kind, str] = {
    Kind.RECEIVED: "您的诉求已受理，工单号${number}，查询码${code}。回复“查询 ${number}”查进度，" + OPT_OUT_HINT + "。",
    Kind.REPEAT_CODE: "您再次反映的问题已并入在办工单${number}，查询码${code}。回复“查询 ${number}”查进度，"
                      + OPT_OUT_HINT + "。",
    Kind.TRANSFERRED: "您的工单${number}已转交${unit}办理${deadline}。" + OPT_OUT_HINT + "。",
    Kind.RESOLVED: "您的工单${number}已办结：${reply}。请回复数字评价：1满意 2基本满意 3不满意。" + OPT_OUT_HINT + "。",
    Kind.MAIN_RESOLVED: "您的工单${number}（与相同问题合并办理）已办结：${reply}。请回复数字评价：1满意 2基本满意 3不满意。"
                        + OPT_OUT_HINT + "。",
    Kind.MERGED: "您的工单${number}反映的问题其他市民也已反映，已合并办理，办结后短信告知您。" + OPT_OUT_HINT + "。",
    Kind.REOPENED: "您对工单${number}的办理结果不满意，已交${unit}重新办理。" + OPT_OUT_HINT + "。",
    Kind.EXTENDED: "您的工单${number}因办理需要，办理时限延长至${deadline}。" + OPT_OUT_HINT + "。",
}
# What ends a reply cut to fit the text: where the citizen reads all of it. With the
# deployment's public address, the status page's (spaces keep a phone's link finder from
# taking the Chinese into the address); else the words alone.
REPLY_CUT_LINK = "（完整答复请凭查询码到 {url} 查看）"
REPLY_CUT = "（完整答复请凭工单号和查询码在网站查询）"
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
        params["deadline"] = f"，办理时限{_day(ticket.deadline)}" if ticket.deadline else ""
        params["unit"] = unit_name or "承办单位"
    elif kind is Kind.REOPENED:
        params["unit"] = unit_name or "承办单位"
    elif kind is Kind.EXTENDED:
        params["deadline"] = _day(ticket.deadline)
    elif kind in (Kind.RESOLVED, Kind.MAIN_RESOLVED):
        # The template puts its own 。 after the reply: one of the reply's own would double it.
        params["reply"] = citizen_reply(ticket, " ".join((ticket.reply or "").split())).rstrip("。.；;，, ")
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
    return (f"{SIGNATURE}您的诉求已受理，工单号{ticket.number}，查询码{ticket.query_code}。"
            f"回复“查询 {ticket.number}”查进度。")


def reply_repeat(ticket: Ticket) -> str:
    return f"{SIGNATURE}您反映的问题已在办理中（工单号{ticket.number}），已记录您的再次反映。"


def reply_attached(ticket: Ticket) -> str:
    return (f"{SIGNATURE}已将您的补充内容加入工单{ticket.number}。"
            "如是新的诉求，请以“新诉求”开头重新发送。")


def reply_status(view: dict[str, object]) -> str:
    """The state as the public web view tells it (same masking, same labels)."""
    text = f"{SIGNATURE}工单{view['number']}：{view['state_label']}"
    if view.get("unit"):
        text += "，承办单位{v}"
    if view.get("deadline") and view.get("bucket") != "resolved":
        text += f"，办理时限{_day(dt.datetime.fromisoformat(str(view['deadline'])))}"
    if view.get("overdue"):
        text += "，已超期"
    return _fit(text + "。", str(view.get("unit") or ""))


def reply_rated(ticket: Ticket, rating: str, unit_name: str | None = None) -> str:
    """The answer to a rating by text. An unsatisfied one says all the reopened notification
    would (which is not sent for it): who handles the ticket again, and by when."""
    if ticket.state == "reopened":
        deadline = f"，办理时限{_day(ticket.deadline)}" if ticket.deadline else ""
        return _fit(f"{SIGNATURE}收到您的评价（不满意），工单{ticket.number}已交{{v}}重新办理{deadline}。",
                    unit_name or "承办单位")
    return f"{SIGNATURE}感谢您的评价（{LABELS_ZH[rating]}），工单{ticket.number}已办结。"


REPLY_NOT_FOUND = f"{SIGNATURE}未查到该工单。请核对工单号，或发送“查询 工单号 查询码”。"
REPLY_NO_TICKETS = f"{SIGNATURE}未查到本号码提交的工单。请发送“查询 工单号 查询码”。"
REPLY_NOTHING_TO_RATE = f"{SIGNATURE}您目前没有待评价的工单。直接发送文字即可反映新的问题。"
REPLY_NOTHING_TO_ADD_TO = f"{SIGNATURE}您没有在办的工单，已作为新的诉求登记。"
REPLY_OPTED_OUT = f"{SIGNATURE}您已退订办理进度短信。回复“订阅”或START可重新订阅。"
REPLY_OPTED_IN = f"{SIGNATURE}您已重新订阅办理进度短信。{OPT_OUT_HINT}。"
REPLY_EMPTY = f"{SIGNATURE}请直接发送您要反映的问题，我们将为您登记受理。"
def reply_throttled(window: dt.timedelta) -> str:
    """The one answer to a number over the flood throttle: this text was not taken, and
    when to send again (a window without texts lets the next one through)."""
    minutes = max(1, math.ceil(window.total_seconds() / 60))
    return (f"{SIGNATURE}您发送的短信过于频繁，本条短信未受理，请{minutes}分钟后再发。"
            "评价办结工单的回复不受此限。紧急情况请拨打12345。")
REPLY_INVALID = f"{SIGNATURE}您的短信无法受理，请精简内容后重新发送，或拨打12345。"


def reply_lookups_refused(retry_after: int) -> str:
    """A status query refused for too many wrong query codes (from this number, or for the
    ticket from anywhere), with the wait in whole minutes."""
    return f"{SIGNATURE}查询失败次数过多，请{max(1, math.ceil(retry_after / 60))}分钟后再试。"


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
