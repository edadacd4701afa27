"""Chinese words of the pages that the domain vocabulary (dispatch.vocabulary.LABELS_ZH)
does not have: timeline actions, table headings, small helpers to format figures."""
from __future__ import annotations

import datetime as dt

from dispatch.clock import CHINA
from dispatch.phone import national_form
from dispatch.vocabulary import LABELS_ZH

ACTIONS_ZH = {
    "receive": "受理", "transfer": "转办", "accept": "签收", "return": "退单", "resolve": "办结",
    "answer": "直接办结", "close": "回访关闭", "reopen": "重办", "invalidate": "作废", "merge": "合并",
    "escalate": "督办", "request_extension": "申请延期", "approve_extension": "同意延期",
    "refuse_extension": "不同意延期", "repeat_contact": "重复诉求",
    "follow_up": "回访", "follow_up_call": "回访回拨", "merge_in": "重复件并入", "main_resolved": "主工单已办结",
    "handover": "即时转", "handover_call": "来电转接", "redispatch": "同意改派", "dispute": "改派申请",
    "refuse_dispute": "不同意改派", "rate": "评价",
}

BUCKETS_ZH = {"received": "受理", "pending": "待办", "in_progress": "在办", "resolved": "办结"}

# Who raised the ticket, by channel: a caller on the phone, otherwise the person who wrote.
CONTACT_ZH = {"phone": "来电人"}
CONTACT_OTHER = "反映人"

# The holiday calendar (dispatch/calendar_days.py): kinds of day, and what a year stands on.
CALENDAR_KINDS_ZH = {"holiday": "节假日", "workday": "调休上班", "cleared": "已删除"}
COVERAGE_ZH = {"entered": "已录入", "official": "按 chinesecalendar 数据包（国务院通知）",
               "weekends": "尚未录入，按周末计算"}
WEEKDAYS_ZH = ("一", "二", "三", "四", "五", "六", "日")


def coverage_warning(year: int) -> str:
    return f"{year} 年的节假日尚未录入，期限按周末计算（周一至周五为工作日）。"


def coverage_missing(year: int, festivals: tuple[str, ...]) -> str:
    return f"{year} 年还没有录入：{'、'.join(festivals)}；这些假期按平常的工作日计算。"


def calendar_kind_label(value: str) -> str:
    return CALENDAR_KINDS_ZH.get(value, value)


ROLE_HOME = {"operator": "/operator", "unit_staff": "/unit", "supervisor": "/supervisor", "admin": "/supervisor"}


def actor_label(value: str) -> str:
    """Who acted, as the audit log shows it: 'citizen:web' -> '市民（网站）'."""
    if value.startswith("citizen:"):
        channel = value.split(":", 1)[1]
        return f"市民（{LABELS_ZH.get(channel, channel)}）"
    return value


def contact_label(channel: str | None) -> str:
    return CONTACT_ZH.get(channel or "", CONTACT_OTHER)


def phone_label(value: str | None) -> str:
    if not value:
        return ""
    return national_form(value) if value.startswith("+") else value


def label(value: str | None) -> str:
    if value is None:
        return "—"
    return LABELS_ZH.get(value) or ACTIONS_ZH.get(value) or value


def action_label(value: str) -> str:
    return ACTIONS_ZH.get(value, value)


def _moment(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(CHINA)


def local_time(value: dt.datetime | str | None) -> str:
    """'2026-11-03 14:05' in China time."""
    moment = _moment(value)
    return "—" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def short_time(value: dt.datetime | str | None) -> str:
    moment = _moment(value)
    return "—" if moment is None else moment.strftime("%m-%d %H:%M")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def time_left(deadline: dt.datetime | str | None, now: dt.datetime) -> str:
    """'剩 2 天 3 小时' or '超期 5 小时': what a unit reads first about a ticket."""
    moment = _moment(deadline)
    if moment is None:
        return "无时限"
    seconds = (moment - now).total_seconds()
    hours = int(abs(seconds) // 3600)
    days, hours = divmod(hours, 24)
    span = (f"{days} 天 " if days else "") + f"{hours} 小时"
    if abs(seconds) < 3600:
        span = f"{int(abs(seconds) // 60)} 分钟"
    return f"超期 {span}" if seconds < 0 else f"剩 {span}"
