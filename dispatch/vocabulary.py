"""Closed vocabularies of the domain, with their Chinese labels in one place."""
from __future__ import annotations

import enum


class Channel(str, enum.Enum):
    PHONE = "phone"
    SMS = "sms"
    WEB = "web"


class RequestType(str, enum.Enum):
    CONSULTATION = "consultation"  # 咨询
    HELP = "help"                  # 求助
    COMPLAINT = "complaint"        # 投诉
    REPORT = "report"              # 举报
    SUGGESTION = "suggestion"      # 建议
    PRAISE = "praise"              # 表扬


class Urgency(str, enum.Enum):
    NORMAL = "normal"
    URGENT = "urgent"


class Role(str, enum.Enum):
    OPERATOR = "operator"
    UNIT_STAFF = "unit_staff"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Rating(str, enum.Enum):
    SATISFIED = "satisfied"      # 满意
    PARTLY = "partly"            # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class UnitKind(str, enum.Enum):
    DEPARTMENT = "department"    # municipal department
    TOWNSHIP = "township"        # township / subdistrict government
    OTHER = "other"


class ExtensionStatus(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class TransferOutcome(str, enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    RETURNED = "returned"


LABELS_ZH: dict[str, str] = {
    "phone": "电话", "sms": "短信", "web": "网站",
    "consultation": "咨询", "help": "求助", "complaint": "投诉", "report": "举报",
    "suggestion": "建议", "praise": "表扬",
    "normal": "一般", "urgent": "紧急",
    "received": "已受理", "answered": "直接办结", "transferred": "已转办", "returned": "已退单",
    "in_progress": "在办", "resolved": "已办结", "reopened": "重办", "closed": "已关闭",
    "invalid": "无效", "merged": "已合并",
    "satisfied": "满意", "partly": "基本满意", "unsatisfied": "不满意",
    "operator": "话务员", "unit_staff": "承办单位", "supervisor": "督办员", "admin": "管理员",
}

REQUEST_TYPE_BY_ZH = {LABELS_ZH[t.value]: t for t in RequestType}


def parse_request_type(value: str | None) -> RequestType:
    """Accept the English value or the Chinese label; default to a complaint, the common case."""
    if value is None or value == "":
        return RequestType.COMPLAINT
    if value in REQUEST_TYPE_BY_ZH:
        return REQUEST_TYPE_BY_ZH[value]
    return RequestType(value)
