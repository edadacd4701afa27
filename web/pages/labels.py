"""Chinese words of the pages that the domain vocabulary (dispatch.vocabulary.LABELS_ZH)
does not have: timeline actions, table titles and headings, what a page says after a step,
small helpers to format figures. The words of one page alone come last, a section a page;
the sentences of errors are web/messages.py's."""
from __future__ import annotations

import datetime as dt
import re

from markupsafe import Markup, escape

from dispatch.clock import CHINA
from dispatch.phone import national_form
from dispatch.retraining import MIN_CORRECTIONS, MIN_HELD_OUT, NO_WORSE, TOO_FEW, WORSE
from dispatch.vocabulary import CORRECTION_FIELDS_ZH as VOCABULARY_CORRECTION_FIELDS_ZH
from dispatch.vocabulary import LABELS_ZH, PART_ROLES_ZH, PUBLIC_LABELS_ZH, QUALITY_ITEMS_ZH, TIER_LABELS_ZH

ACTIONS_ZH = {
    "receive": "受理", "transfer": "转办", "accept": "签收", "return": "退单", "resolve": "办结",
    "answer": "直接办结", "close": "回访关闭", "reopen": "重办", "invalidate": "作废", "merge": "合并",
    "escalate": "督办", "overdue": "超期", "request_extension": "申请延期", "approve_extension": "同意延期",
    "refuse_extension": "不同意延期", "repeat_contact": "重复诉求", "addition": "市民补充",
    "follow_up": "回访", "follow_up_call": "回访回拨", "merge_in": "重复件并入", "main_resolved": "主工单已办结",
    "handover": "即时转", "handover_call": "来电转接", "redispatch": "同意改派", "triage": "转人工分派", "dispute": "改派申请",
    "refuse_dispute": "不同意改派", "rate": "评价",
    "co_transfer": "协办派单", "part_accept": "协办签收", "part_return": "协办退回", "part_reply": "协办答复",
    "forward": "二次派单", "hand_back": "退回上级单位", "override_parts": "同意先行办结",
    "request_override": "先行办结申请", "refuse_override": "不同意先行办结",
    "withdraw_forward": "收回二次派单", "progress": "办理进展", "succession": "移交承接单位",
    "attach": "上传图片", "detach": "删除图片", "correct": "修改受理信息", "refetch_media": "重新获取彩信图片",
}

# The console's 诉求类型 suggested from the words typed (dispatch/request_type_hints.py): said
# when the select follows it (the operator has not chosen), or offered with one click to take.
REQUEST_TYPE_HINT_ZH = {"followed": "按诉求内容（{words}）已选为“{label}”，如不对请改选",
                        "offered": "按诉求内容（{words}）建议为“{label}”", "take": "改为{label}"}
WORDS_SEPARATOR_ZH = "、"

# 修改受理信息: the fields a correction changed, as the ticket page's record names them.
CORRECTION_FIELDS_ZH = VOCABULARY_CORRECTION_FIELDS_ZH   # the unit's notice names them alike
# 保密 in the correction form and in the record of a correction.
CONFIDENTIAL_ZH = {False: "不保密", True: "保密（承办单位看不到市民姓名、电话和地点，不在公开页面公开）"}
CONFIDENTIAL_SHORT_ZH = {False: "否", True: "是"}

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


# The system's own actors, as the audit log names them.
SYSTEM_ACTORS_ZH = {"system:chasing": "系统（超期督办）", "system:follow-up": "系统（回访到期关闭）",
                    "system:retention": "系统（图片保存期限）",
                    "demo": "系统（演示数据）", "cli": "系统（命令行）"}


def actor_label(value: str) -> str:
    """Who acted, as the audit log shows it: 'citizen:web' -> '市民（网站）',
    'system:chasing' -> '系统（超期督办）'."""
    if value.startswith("citizen:"):
        channel = value.split(":", 1)[1]
        return f"市民（{LABELS_ZH.get(channel, channel)}）"
    if value.startswith("cli:"):
        return f"系统（命令行，{value.split(':', 1)[1]}）"
    return SYSTEM_ACTORS_ZH.get(value, value)


def contact_label(channel: str | None) -> str:
    return CONTACT_ZH.get(channel or "", CONTACT_OTHER)


def location_example(township: str | None) -> str:
    """The complaint form's example of a place: the city's own township, never the demo's streets."""
    return f"如：{township or '某某街道'} 某某路与某某街交叉口"


def phone_label(value: str | None) -> str:
    if not value:
        return ""
    return national_form(value) if value.startswith("+") else value


# A number as stored (+8613812345678, or a short service number): digits, perhaps a leading +.
_DIALABLE = re.compile(r"\+?[0-9]{3,20}")


def tel_href(value: str | None) -> str | None:
    """The tel: link that calls the number from the page (a click on a desk or mobile phone);
    None for no number, or one hidden from the viewer (（保密）)."""
    if not value or not _DIALABLE.fullmatch(value):
        return None
    return f"tel:{value}"


def label(value: str | None) -> str:
    if value is None:
        return "—"
    return LABELS_ZH.get(value) or ACTIONS_ZH.get(value) or value


# A sub-unit's part (二次派单) is no co-handling: its steps are named for what it is.
FORWARD_PART_ACTIONS_ZH = {"part_accept": "下级单位签收", "part_reply": "下级单位答复"}


# A citizen's timeline, in the same plain words as the states they read
# (dispatch.vocabulary.PUBLIC_LABELS_ZH): 回访关闭 read as if every close followed a follow-up
# call, 退单 as a refusal, 作废 as if the citizen had done wrong, and 转办, 签收, 重办, 重复诉求
# and 即时转 are the hotline's own words.
PUBLIC_ACTIONS_ZH = {
    "close": "已关闭", "transfer": "交承办单位办理", "accept": "承办单位开始办理", "return": "重新安排承办单位",
    "answer": "直接答复", "reopen": "重新办理", "merge": "与同一问题合并办理", "repeat_contact": "您再次反映了此事",
    "main_resolved": "同一问题已办结", "handover": "转交紧急部门", "approve_extension": "办理时限延长",
    "invalidate": PUBLIC_LABELS_ZH["invalid"]}


def public_action_label(value: str) -> str:
    return PUBLIC_ACTIONS_ZH.get(value) or ACTIONS_ZH.get(value, value)


def action_label(value: str, role: str | None = None) -> str:
    if role == "forward" and value in FORWARD_PART_ACTIONS_ZH:
        return FORWARD_PART_ACTIONS_ZH[value]
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


def seconds(value: float) -> str:
    """A call's wait or talk time as a table shows it: '12 秒'."""
    return f"{value:.0f} 秒"


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

# What a person is told when a form outlived its session or its page.
SESSION_EXPIRED_KEPT = "登录已过期，请重新登录，您填写的内容已保留。"
SESSION_EXPIRED = "登录已过期，请重新登录。"
KEPT_FORM_RESTORED = "刚才的提交未能完成：页面已过期（登录已过期，或在其他页面重新登录过）。您填写的内容已恢复，请核对后重新提交。"
# A form refused because the ticket moved on (409): what was typed stays on the page.
TYPED_MOVED = "您刚才填写的{was}内容已填入下方「{now}」，请核对后再提交。"
TYPED_NOT_SAVED = "您刚才填写的内容没有保存（该表单已不适用于工单的最新状态），可复制使用："
KEPT_FORM_ELSEWHERE = "刚才填写的内容（如原表单已不在此页，可复制使用）"
# The ticket page's 图片 section, to a unit on a 保密 ticket (dispatch.attachments.withheld).
PHOTOS_WITHHELD = "另有 {count} 张图片（市民提供的现场照片）因工单保密不向承办单位显示。"
PUBLIC_FORM_EXPIRED = "页面已过期，您填写的内容已保留，请核对后再提交一次。"

# The complaint form says what becomes public: a ticket's description, place and progress are
# published on /board and Open311 (masked as dispatch.masking does: phone and ID numbers only,
# and the citizen's own name), and a confidential ticket is left out of both.
PUBLIC_FORM_PUBLISHED = ("请注意：诉求内容、事发地点和办理进度会在本网站的公开页面和开放数据接口上公开，"
                         "其中的电话号码和身份证号会隐去。请不要写他人的姓名、住址等个人信息。")
PUBLIC_FORM_CONFIDENTIAL = ("保密：承办单位看不到我的姓名、电话、填写的地点和上传的照片；"
                            "诉求内容和地点不在公开页面上公开")
# A form with photos refused before it is read (web/upload_gate.py): this address is still
# sending one, or the server is reading as many as it takes at once.
PUBLIC_FORM_UPLOADING = "您的上一份带照片的诉求还在上传，请等它完成后再提交。"
PUBLIC_FORM_BUSY = "现在上传照片的人较多，请稍等片刻再提交。"
# After a rating on the status page: an unsatisfied one sent the ticket back to be handled
# again, in the words the page's state then reads (not 退回, a unit's refusal to staff).
RATED_UNSATISFIED = f"工单{PUBLIC_LABELS_ZH['reopened']}，请留意后续答复。"
RATED_CLOSED = "本工单已办结关闭。"
# A case on the public board that no unit handled: the operator answered it on the call
# (直接办结 is the hotline's word).
ANSWERED_BY_HOTLINE = "由热线直接答复"
# The public board's unit table and rates, in a citizen's words, each with what it counts
# (DESIGN.md's definitions; the unit's own as the README's unit figures). 转办, 成功转办率 and
# 退单率 are the hotline's names for them, which the staff pages keep.
BOARD_WORDS_ZH: dict[str, tuple[str, str]] = {
    "transfer_rate": ("交承办单位比例", "本时段受理的工单中，交给承办单位办理（至少一次）的比例"),
    "received": ("收到工单", "本时段受理的工单中，交给该单位办理的件数（含协办和上级单位转交的部分）"),
    "successful_transfer_rate": ("接收比例", "该单位收到的工单中，确认接收、开始办理的比例"),
    "return_rate": ("退回比例", "该单位收到的工单中，认为不归本单位办理、退回热线重新安排的比例"),
}
BOARD_FEW = "收到工单少于 10 件的单位标为“样本少”，列在后面，不参与排名。比率以本时段受理的工单计，截至当前。"
BOARD_NO_UNITS = "本时段暂无交承办单位办理的工单"
STATUS_FORM_EXPIRED = "页面已过期，请再点击一次“查询”。"
RATING_FORM_EXPIRED = "页面已过期，评价还没有提交：您的选择和意见已保留，请再点击一次“提交评价”。"

# 考核: the rates a unit is scored on, and its tiers.
ASSESSMENT_RATES_ZH = {"response": "响应率", "resolution": "办结率（解决率）", "satisfaction": "满意率",
                       "on_time": "按期办结率"}
TIERS_ZH = {tier.value: label for tier, label in TIER_LABELS_ZH.items()}
NO_TIER = "不定档（件数少，区间过宽）"

# 热点: the kind of a day, and which baseline days a day was compared with (dispatch.hotspots.rising).
DAY_KINDS_ZH = {"workday": "工作日", "rest_day": "休息日"}


def baseline_days_label(days: int, kind: str) -> str:
    """'20 个工作日'; the whole baseline when it had no day of the day's kind."""
    if kind in DAY_KINDS_ZH:
        return f"{days} 个{DAY_KINDS_ZH[kind]}"
    return f"{days} 天（其中没有同类日子，按全部计）"

# The administrator's pages: roles, unit kinds, the staff activity log.
NOTICE_KINDS_ZH = {"near_due": "临期预警", "overdue": "超期", "escalation": "督办", "digest": "今日临期",
                   "co_handling": "协办", "forwarded": "二次派单", "part": "协办/二次派单进展",
                   "kb_review": "知识待复核", "extension": "延期审批", "dispute": "改派申请审批",
                   "override": "先行办结申请审批",
                   "addition": "市民补充", "transferred": "新工单", "reopened": "重办",
                   "corrected": "受理信息修改",
                   # supervisors' (/supervisor/notices)
                   "escalation_answered": "督办已反馈", "escalated_resolved": "督办件已办结",
                   "extension_request": "延期申请待审批", "dispute_request": "改派申请待处理",
                   "override_request": "先行办结申请待审批"}
# Where a supervisor decides a waiting request told in a notice ({number} is the ticket's):
# 延期 on the dashboard's list, 改派 and 先行办结 in their forms on the ticket page.
NOTICE_DECIDED_AT = {"extension_request": "/supervisor#table-extensions",
                     "dispute_request": "/tickets/{number}#decide-dispute",
                     "override_request": "/tickets/{number}#override-parts"}
NOTICE_DECIDE_LINK_ZH = "去审批"
# A request's notice done with (staff_notices.Settled): 已处理, and how; the same words on
# /supervisor/notices and in the staff API's ?mine=1 list (its `settled` field).
NOTICE_SETTLED_ZH = "已处理"
NOTICE_SETTLED_HOW_ZH = {"decided": "已决定", "lapsed": "申请已失效（工单已不在该单位办理）"}
NOTICE_DECIDED_BY_ZH = "{who}已决定"
# A notice about a ticket that left the unit because the unit answered its part: said so
# (已答复协办), not 已移出本单位 as if the ticket had been taken elsewhere.
PART_ANSWERED_ZH = {role: f"已答复{word}" for role, word in PART_ROLES_ZH.items()}
# A unit's own tickets in its inbox, by what the unit has to do: take it (签收) or work it.
INBOX_STATES_ZH = {"transferred": "待签收", "reopened": "重办 · 待签收", "in_progress": "已签收"}
# The inbox shown in part (unit_inbox.SHOWN), as its counts name them.
INBOX_SHOWN_ZH = {"new": "待签收", "near": "临期", "overdue": "超期"}
# The search's 办理时限 filter (?due=): 超期 and 临期 as the inbox has them (unit_inbox.due).
SEARCH_DUE_ZH = {"overdue": INBOX_SHOWN_ZH["overdue"], "near": INBOX_SHOWN_ZH["near"]}
# The forms of a unit acting on its part, in its role's words: a 协办 unit replies to and
# returns to the lead; a sub-unit (二次派单) to its parent.
# `handle`: the section's heading once the part is accepted (no 签收 is offered any more).
PART_FORMS_ZH = {
    "co": {"accept": "签收协办", "handle": "办理协办", "return_heading": "退回协办",
           "return_label": "退回理由（不属于本单位职责时）", "return_button": "退回协办",
           "reply_heading": "协办答复", "reply_label": "答复主办单位"},
    "forward": {"accept": "签收二次派单", "handle": "办理二次派单", "return_heading": "退回上级单位",
                "return_label": "退回上级单位的理由", "return_button": "退回上级单位",
                "reply_heading": "下级单位答复", "reply_label": "答复上级单位"},
}
# A unit's part in a ticket (dispatch/parts.py): its role (the words its notices use,
# dispatch.vocabulary.PART_ROLES_ZH) and how far it got.
PART_STATUS_ZH = {"pending": "待签收", "accepted": "已签收", "returned": "已退回", "replied": "已答复",
                  "waived": "免予答复（督办同意主办先行办结）", "withdrawn": "已收回"}

ROLES_ZH = {"operator": "话务员", "unit_staff": "承办单位工作人员", "supervisor": "督办员", "admin": "管理员"}
UNIT_KINDS_ZH = {"department": "部门", "township": "乡镇街道", "other": "其他"}
# A unit's fields as the import's preview names a change (dispatch.unit_admin.plan_import).
UNIT_FIELDS_ZH = {"name": "名称", "kind": "类型", "parent": "上级单位", "active": "状态", "duty_phone": "值班电话"}
ACTIVITY_ZH = {
    "login": "登录", "login_failed": "登录失败", "login_locked": "账号登录锁定", "logout": "退出", "user_added": "新增账号",
    "user_changed": "修改账号", "user_deactivated": "停用账号", "user_reactivated": "启用账号",
    "password_reset": "重置密码", "unit_added": "新增单位", "unit_changed": "修改单位", "units_imported": "导入单位",
    "rule_added": "添加分派规则", "rule_removed": "停用分派规则", "catalogue_changed": "修改派单目录", "export": "导出 CSV",
    "token_created": "创建 API 令牌", "token_revoked": "撤销 API 令牌",
    "webhook_set": "设置对接地址", "webhook_removed": "删除对接地址", "webhook_redelivered": "重发对接消息",
    "model_swapped": "分类模型重训并启用", "model_kept": "分类模型重训未启用",
    "kb_published": "发布知识", "kb_retired": "停用知识",
    "calendar_days_set": "设置节假日/调休", "calendar_day_cleared": "删除节假日/调休设置",
    "template_added": "新增常用语", "template_changed": "修改常用语", "template_removed": "删除常用语",
    "callback_done": "未接来电已回拨",
    "shift_handed_over": "交班", "shift_taken_over": "接班",
    "agent_paused": "示忙", "agent_unpaused": "示闲",
    "quality_inspected": "质检",
}
ACTIVITY_FIELDS_ZH = {
    "old_score": "原模型得分", "new_score": "新模型得分", "held_out": "留出改派样本数", "trained_on": "训练样本数",
    "model_file": "模型文件", "reason": "原因", "trigger": "触发",
    "name": "名称", "kind": "类型", "parent": "上级单位", "active": "在用", "duty_phone": "值班电话", "role": "角色", "unit": "单位",
    "display_name": "姓名", "phrases": "关键词", "note": "说明", "since": "起", "until": "止", "rows": "行数",
    "via": "途径", "generated": "系统生成密码", "added": "新增", "changed": "修改", "unchanged": "未变",
    "user": "账号", "unknown_name": "用户名不存在", "failures": "失败次数", "url": "对接地址",
    "successor": "承接单位", "tickets_moved": "移交工单", "parts_moved": "移交协办/二次派单", "entries_moved": "移交目录条目",
    "history_moved": "移交已办结工单",
    "days": "天数", "day": "日期", "day_kind": "日子类型", "festival": "节日",
    "title": "标题", "text": "内容", "old_title": "原标题", "old_text": "原内容", "city_wide": "全市通用",
    "code": "目录编码", "path": "分类", "terms": "匹配词", "deadline_class": "时限类别", "local": "属地", "version": "版本",
    "caller": "来电号码", "result": "回拨结果",
    "waiting_tickets": "待处理工单", "open_callbacks": "待回拨", "unreached_callbacks": "回拨未接通",
    "handed_over_by": "交班人", "shift_start": "本班开始",
    "number": "工单号", "operator": "话务员", "total": "总分",
    **{f"score_{item.value}": words for item, words in QUALITY_ITEMS_ZH.items()},
    "delivery": "消息编号", "event": "事件", "attempts": "已尝试次数", "last_error": "最后错误",
}
# A guarded retrain's reason (dispatch/retraining.py's keys).
RETRAIN_REASONS_ZH = {NO_WORSE: "新模型在留出的改派样本上不比原模型差", WORSE: "新模型在留出的改派样本上得分更低",
                      TOO_FEW: f"改派样本不足 {MIN_CORRECTIONS} 条（{MIN_HELD_OUT} 条用于学习、{MIN_HELD_OUT} 条用于评分）"}
WEBHOOK_STATUS_ZH = {"pending": "等待重试", "sending": "发送中", "delivered": "已送达", "failed": "已放弃"}
WEBHOOK_EVENTS_ZH = {"ticket.transferred": "转办", "ticket.reopened": "重办", "ticket.escalated": "督办",
                     "notice.near_due": "临期预警", "notice.overdue": "超期", "notice.digest": "每日汇总",
                     "notice.co_handling": "协办", "notice.forwarded": "二次派单", "notice.part": "协办答复",
                     "notice.extension": "延期审批", "notice.dispute": "改派审批", "notice.override": "先行办结",
                     "notice.addition": "市民补充", "notice.kb_review": "知识库复核",
                     "notice.corrected": "受理信息修改",
                     # named alike, but told to supervisors (their notices), not to a unit's system
                     "notice.escalation_answered": "督办已反馈", "notice.escalated_resolved": "督办件已办结",
                     "notice.extension_request": "延期申请", "notice.dispute_request": "改派申请",
                     "notice.override_request": "先行办结申请"}


def activity_value(value: object) -> str:
    if value is None:
        return "—"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, list) and len(value) == 2:   # a change: [before, after]
        return f"{activity_value(value[0])} → {activity_value(value[1])}"
    text = str(value)
    return (ROLES_ZH.get(text) or UNIT_KINDS_ZH.get(text) or RETRAIN_REASONS_ZH.get(text)
            or CALENDAR_KINDS_ZH.get(text) or text)


def activity_detail(detail: dict[str, object] | None) -> str:
    """{'role': ['operator', 'admin']} -> '角色：话务员 → 管理员'."""
    if not detail:
        return ""
    return "；".join(f"{ACTIVITY_FIELDS_ZH.get(k, k)}：{activity_value(v)}" for k, v in detail.items())

# The call wallboard (话务实时监控): agent states and alarms.
AGENT_STATES_ZH = {"ready": "空闲", "ringing": "振铃", "talking": "通话", "wrap_up": "话后处理", "paused": "暂停"}
WALLBOARD_ALARMS_ZH = {"long_wait": "有来电等待超过 15 秒", "low_answer_rate": "近 24 小时接通率低于 95%",
                       "no_agent_ready": "没有空闲坐席"}

# Daily / weekly / monthly reports (dispatch/periodic_reports.py): kinds, sections, tables, columns.
REPORT_KINDS_ZH = {"day": "日报", "week": "周报", "month": "月报"}
REPORT_SECTIONS_ZH = {
    "calls": "话务", "tickets": "工单", "rates": "各项指标", "units": "承办单位", "overdue": "超期工单",
    "notable": "重点关注", "channels": "按渠道", "categories": "按分类", "daily": "每日趋势",
    "hotspots": "热点", "tiers": "单位考核分档",
}
REPORT_ZH = {  # columns, figures and row labels
    "overdue": "超期",
    "offered": "接入", "answered": "接通", "abandoned": "放弃", "short_abandoned": "短时放弃",
    "answer_rate": "接通率", "answer_rate_15s": "15秒接通率", "service_level": "服务水平",
    "abandonment_rate": "放弃率", "asa_seconds": "平均等待", "aht_seconds": "平均通话",
    "received": "受理", "answered_at_intake": "直接办结", "transferred": "转办", "resolved": "办结",
    "resolved_or_answered": "办结（含直接办结）", "resolved_by_units": "承办单位办结", "handed_over": "即时转", "invalid": "无效",
    "merged": "合并", "channel": "渠道", "category": "分类", "day": "日期", "resolution_rate": "办结率",
    "on_time_rate": "按期办结率", "satisfaction_rate": "满意率", "transfer_rate": "转办率",
    "successful_transfer_rate": "成功转办率", "return_rate": "退单率", "follow_up_rate": "回访率",
    "direct_answer_rate": "直接办结率", "figure": "指标", "this_period": "本期", "previous_period": "上期",
    "unit": "承办单位", "accepted": "签收", "returned": "退单", "number": "工单号", "title": "标题",
    "state": "状态", "deadline": "办理时限", "days_overdue": "超期天数", "why": "关注原因", "count": "件数",
    "many_citizens": "多人反映", "unsatisfied": "不满意", "returned_often": "多次退单",
    "escalated": "督办", "escalations": "督办次数", "escalations_by_supervisors": "督办员督办",
    "escalations_by_scheduler": "系统自动督办",
    "tier": "档次", "score": "考核得分", "response_rate": "响应率", "place": "地点", "expected": "日常水平（件/日）",
    "hotspot_score": "热度得分", "month": "月份", "not_yet_due": "未到期", "A": "好", "B": "较好", "C": "一般", "D": "差", "none": "不定档",
    "no_tier_reason": "不定档原因", "tier_too_few": "已到期的转办太少，得分区间过宽",
    "tier_nothing_due": "尚无已到期可考核的转办",
}
# A table's own heading where its name would repeat its section's (工单 under 工单), and a
# column worded by its table where the key alone would say something else: a unit's
# "received" counts the transfers it got (转办, as on /supervisor), not tickets received.
REPORT_TABLES_ZH = {"tickets": "工单总体"}
REPORT_TABLE_COLUMNS_ZH = {("units", "received"): "转办"}
# What the report's 超期 counts (docs/DESIGN.md: open past its deadline, of the tickets received
# in the period), beside the inbox's 超期, which counts every open ticket past its deadline now.
REPORT_OVERDUE_MEANS = ("“超期”只数本期受理、到报告生成时仍未办结且已过办理时限的工单；"
                        "更早受理、现仍超期的不在此列，本单位此刻的全部超期见工作台的“超期”。")
REPORT_NO_PDF = "本报告没有 PDF：服务器上未找到 PDF 生成工具（chromium 与 Playwright），HTML 与 CSV 照常生成。"
REPORT_PDF_OFF = "本报告没有 PDF：HOTLINE_REPORT_PDF=off。"
REPORT_PDF_FAILED = "本报告没有 PDF：生成 PDF 时出错，HTML 与 CSV 照常生成。"
# After the service level's heading: the seconds it counts within.
SERVICE_LEVEL_SECONDS = "({seconds}秒)"


def report_word(key: str) -> str:
    return REPORT_ZH.get(key) or LABELS_ZH.get(key) or key


def report_section(key: str) -> str:
    return REPORT_SECTIONS_ZH.get(key) or report_word(key)


def report_table(name: str) -> str:
    return REPORT_TABLES_ZH.get(name) or report_section(name)


def report_column(table: str, key: str) -> str:
    return REPORT_TABLE_COLUMNS_ZH.get((table, key)) or report_word(key)


def report_title(kind: str, since: str, until: str) -> str:
    period = since if since == until else f"{since} 至 {until}"
    return f"12345 热线{REPORT_KINDS_ZH.get(kind, kind)}（{period}）"


# ---- The pages' own words, one section a page -------------------------------------------

NONE_YET = "暂无"            # an empty table's one row
UNCATEGORISED = "未分类"     # a ticket the catalogue has not placed, in a table or a chart

# The charts (web/pages/charts.py): their default titles, and what a bar or a dot says on hover.
DAILY_BARS_TITLE = "每日受理与办结"
RATE_LINE_TITLE = "每日办结率"
DAILY_BAR_HOVER = "{day} 受理 {received}，其中办结 {resolved}"
RATE_DOT_HOVER = "{day} 办结率 {rate}"

# The periods a supervisor picks with one click (web/pages/periods.py): a name and its days.
PERIOD_PRESETS_ZH = (("今日", 1), ("近7天", 7), ("近30天", 30), ("近90天", 90))

# The supervisor's dashboard (web/pages/supervisor.py): each table's title and its column
# headings, by the table's name (its CSV is /supervisor/export/<name>.csv). The calls table's
# service level names its seconds: {seconds}.
DASHBOARD_TABLES_ZH: dict[str, tuple[str, tuple[str, ...]]] = {
    "tickets": ("工单总体", ("指标", "数值")),
    "follow_up": ("回访与评价", ("办结", "已回访", "回访率", "已评价", "电话评价", "网站评价", "短信评价", "满意率")),
    "handovers": ("即时转（按去向）", ("去向", "工单数")),
    "disputes": ("改派申请（按单位）", ("单位", "提出", "同意改派", "不同意", "待决定")),
    "units": ("承办单位", ("单位", "转办", "签收", "退单", "办结", "成功转办率", "退单率", "办结率", "按期办结率",
                          "满意率", "超期")),
    "categories": ("按分类", ("分类", "受理", "直接办结", "转办率", "退单率", "办结率", "按期办结率", "满意率", "超期")),
    "routing_feedback": ("分类建议采纳情况（按周、按建议分类）",
                         ("周（周一）", "建议分类", "已转办", "采纳率", "自动分派占比", "话务员改派占比", "单位退回占比")),
    "channels": ("按渠道", ("渠道", "受理", "办结", "办结率")),
    "daily": ("每日趋势", ("日期", "受理", "其中已办结", "办结率")),
    "calls": ("话务（全部与各坐席）", ("坐席", "接入", "接通", "放弃", "接通率", "放弃率", "平均等待", "15秒接通率",
                                   "服务水平({seconds}秒)", "平均通话")),
    "disputes_pending": ("改派申请待决定", ("工单号", "标题", "申请单位", "理由", "申请时间")),
    "override_requests": ("先行办结申请待决定", ("工单号", "标题", "申请单位", "理由", "申请时间")),
    # A unit's answer to a 督办 (办理进展), whoever escalated; the one who did is also told (/supervisor/notices).
    "escalations_answered": ("督办已反馈（近7天）", ("工单号", "标题", "反馈单位", "督办人", "督办意见", "督办时间",
                                              "办理进展", "反馈时间")),
    "overdue": ("超期工单", ("工单号", "标题", "状态", "承办单位", "办理时限", "剩余", "督办情况")),
    "near_due": ("临期工单（24小时内到期）", ("工单号", "标题", "状态", "承办单位", "办理时限", "剩余", "督办情况")),
    "extensions": ("延期申请待审批", ("工单号", "单位", "申请天数", "理由", "申请时间", "当前时限")),
    "returned": ("退单待重新派单", ("工单号", "标题", "退回单位", "退单理由", "退单时间")),
    "sms_failed": ("短信发送失败", ("工单号", "收件号码", "通知", "发送状态", "投递状态", "错误码", "最后错误", "时间")),
}
# The 督办情况 cell of the overdue and near-due lists: how often a ticket was escalated (the
# scheduler's included) and when last, China time.
ESCALATED_TIMES_ZH = "督办 {count} 次，最近 {at}"
# ... and the unit has answered it since with a progress note (办理进展), when.
ESCALATION_ANSWERED_ZH = "；单位已反馈 {at}"
# What each dashboard table's count badge counts, said after it ("18 件"): tickets where the
# table holds them or sums them (即时转 counts its tickets, not its destinations), else its rows.
DASHBOARD_COUNT_WORDS_ZH = {
    "returned": "件", "overdue": "件", "near_due": "件", "extensions": "件", "disputes_pending": "件", "override_requests": "件",
    "escalations_answered": "件",
    "handovers": "件", "disputes": "件申请", "units": "个单位", "categories": "个分类", "daily": "天",
    "sms_failed": "条短信",
}
# The rows of the tickets table ("工单总体"), in order: a figure's key and its name.
DASHBOARD_TICKET_FIGURES_ZH = {
    "received": "受理", "answered": "直接办结", "transferred": "转办", "transfer_rate": "转办率",
    "successful_transfer_rate": "成功转办率", "return_rate": "退单率", "resolution_rate": "办结率",
    "on_time_rate": "按期办结率", "satisfaction_rate": "满意率", "follow_up_rate": "回访率", "overdue": "超期",
    "handed_over": "即时转", "invalid": "无效", "merged": "合并",
}
# The calls table's rows: every call first, then each agent's ("未接通": calls no agent took).
ALL_CALLS = "全部"
UNANSWERED_CALLS = "未接通"
AGENT_NAMED = "{name}（{interface}）"   # an agent whose phone is a staff account's extension
CATEGORY_CHART_TITLE = "各分类受理量"
CHANNEL_CHART_TITLE = "各渠道受理量"

# The search's CSV (web/pages/search.py): its columns, and a confidential ticket's title as
# unit staff get it.
SEARCH_CSV_COLUMNS = ("工单号", "受理时间", "渠道", "类型", "紧急程度", "状态", "承办单位", "分类", "标题", "办理时限")
CONFIDENTIAL_TITLE = "（保密工单）"
# The last line of a search's CSV cut at its limit, and the page's words beside 导出 CSV.
SEARCH_CSV_CUT_ZH = "（仅导出前 {limit} 件：还有更多符合条件的工单未导出，请缩小筛选条件，如按接收日期分段导出）"
SEARCH_CSV_LIMIT_ZH = "最多导出 {limit} 件，超出时文件末行注明"

# The ticket page (web/pages/tickets.py): what it says after each step, by the form's name.
# The links to photos an Open311 app gave with a request (media_url), on the ticket page: kept
# as given, never downloaded by the hotline (dispatch/open311.py).
MEDIA_LINKS_ZH = {"title": "市民应用提供的图片链接",
                  "hint": "链接由市民使用的应用（Open311）提供，系统未下载其内容；请确认来源可信后再打开。"}
# A picture message's photos not (yet) on the ticket (dispatch/media_fetches.py).
MMS_PHOTOS_ZH = {"waiting": "市民彩信中的 {n} 张图片正在获取，稍后刷新即可看到。",
                 "failed": "市民彩信中的 {n} 张图片未能取回（不是图片、过大、超出张数或链接失效），原始链接见工单内容。",
                 # each given-up photo, for the centre's staff, with its 重新获取 button
                 "given_up": "第 {position} 张：{error}（已尝试 {attempts} 次）", "refetch": "重新获取"}
# A refused form that carried photos: none was kept, and a browser cannot be given files back.
PHOTOS_NOT_SAVED = "所选图片未保存，请重新选择。"
TICKET_DONE_ZH = {
    "filed": "已受理，请转办或直接办结。",
    # A repeat call (same number, same matter as an open ticket): joined to that ticket.
    "joined": "该来电人已有在办工单，本次来电已并入本工单，未新建工单。", "transfer": "已转办。", "answer": "已直接办结。",
    # 受理并转办 from the console; a repeat call of a ticket already with a unit is not sent on again.
    "filed_transfer": "已受理并转办。",
    "joined_transfer": "该来电人已有在办工单，本次来电已并入本工单，未新建工单；已转办。",
    "joined_kept": "该来电人已有在办工单，本次来电已并入本工单，未新建工单；工单已在承办单位办理，未再转办。",
    # 受理并并入 from the console: filed, then merged into this, the caller's open ticket it repeats.
    "filed_merged": "本次来电已受理，并已合并到该来电人的这件在办工单，办结结果会同步告知来电人。",
    "accept": "已签收。", "return": "已退单，工单回到派单台。", "resolve": "已办结并答复市民。",
    "extend": "延期申请已提交，等待督办员审批。", "escalate": "已督办，承办单位会在收件箱看到。",
    "merge": "已合并到主工单，办结结果会同步告知本工单的市民。", "invalidate": "已作为无效工单关闭。",
    "handover": "已即时转。", "dispute": "改派申请已提交，等待督办员决定。",
    "decide_dispute": "已处理改派申请。", "close": "已关闭。", "follow_up": "已记录回访结果。",
    "part_reply": "已答复主办单位。", "forward": "已二次派单给下级单位，办理时限不变。",
    "override_parts": "已同意主办单位先行办结。", "progress": "已记录办理进展。", "attach": "图片已上传。",
    "detach": "图片已删除，删除记录和理由已记入工单日志。",
    "refetch_media": "已安排重新获取这张彩信图片，稍后刷新即可看到。",
    "correct": "受理信息已修改，修改前后的内容已记入办理记录。",
    "request_override": "先行办结申请已提交，等待督办员决定。", "refuse_override": "已不同意先行办结，主办单位会收到通知。",
    "part_return": "已退回本单位的协办（二次派单）部分，工单仍由主办单位办理。",
}

# What the ticket page asks before a step that cannot be taken back (web/static/ticket.js);
# 取消 leaves the form as it was, typed words and all.
TICKET_CONFIRM_ZH = {
    "resolve": "确认办结？办结后答复将发给市民，不能撤回。",
    "return": "确认退单？工单将退回派单台，不能撤回。",
    # a part's return, in its role's words (PART_FORMS_ZH)
    "co_return": "确认退回本单位的协办部分？不能撤回。",
    "forward_return": "确认退回上级单位？不能撤回。",
    "dispute": "确认提交改派申请？提交后由督办员决定，不能撤回。",
    "detach": "确认删除这张图片？图片将被永久删除，不能恢复；删除记录和理由留在工单日志中。",
}
# The banner over an open ticket page when someone else changed the ticket meanwhile.
TICKET_CHANGED = "此工单已有新动态，点此刷新"

# The operator's console (web/pages/operator.py): what it says after each step; a one-click
# call's result follows ({done}：{result}。), and a follow-up call asks for the result below.
# 示忙 / 示闲 on the console, as the PBX last reported the operator's phone.
AGENT_PAUSE_ZH = {"ready": "示闲", "paused": "示忙", "paused_for": "示忙（{reason}）",
                  "out": "未登录队列（或电话系统尚未报告）"}
OPERATOR_DONE_ZH = {"paused": "已示忙，队列暂不分配来电。", "unpaused": "已示闲，可以接听来电。",
                    "callback": "已记录回拨。", "called": "已回拨", "follow_up_call": "已回拨",
                    "follow_up": "已记录回访结果。", "calling": "正在回拨，结果将显示在回拨列表中。"}
CALL_RESULT = "{done}：{result}。"
FOLLOW_UP_CALL_RESULT = "{done}：{result}。请在下方记录结果。"
# A callback marked done with nothing typed: the note it keeps.
CALLBACK_NOTE = "已回拨"
# A missed call's row while the call placed in the background rings, and after it.
CALLBACK_DIALING_ZH = "正在回拨…"
CALLBACK_REACHED_ZH = "市民已接听，已移出回拨列表"
CALLBACK_LAST_ZH = "最近回拨：{attempt}"   # 姓名 时间 结果
# A caller's open ticket the words being typed may repeat (dispatch/repeats.py), and the
# console's one click that files the request and merges it into that ticket.
REPEAT_PROPOSAL_ZH = "可能与 {number} 重复"
REPEAT_MERGE_ZH = "受理并并入 {number}"

# The knowledge base pages (web/pages/kb.py): an article's states, what they say after each
# step, and a level 1 of the catalogue chosen whole in the article's form.
KB_STATES_ZH = {"draft": "草稿", "published": "已发布", "retired": "已停用"}
KB_DONE_ZH = {"saved": "已保存为新版本。", "created": "已创建草稿，请提交编辑发布。", "published": "已发布。",
              "retired": "已停用，不再提供给话务员和市民。"}
WHOLE_CATEGORY = "{level1}（整类）"

# The supervisors' settings pages: what each says after a change.
CATALOGUE_DONE_ZH = {"saved": "已保存为新版本，新工单即按此分派；已派出的工单保留原来的类别。"}   # catalogue.py
HOLIDAYS_DONE_ZH = {"added": "已保存，新工单的期限即按此计算。", "removed": "已删除（记录保留在下方）。",
                    "imported": "导入完成，新工单的期限即按此计算。",
                    "unchanged": "这些日子已是同样的设置，没有改动。"}                        # holidays.py
RULES_DONE_ZH = {"added": "规则已添加，新工单即按此分派。", "removed": "规则已停用（保留在下方记录中）。"}  # rules.py

# The administrator's pages (web/pages/admin.py): what they say after each step.
ADMIN_DONE_ZH = {
    "added": "账号已添加。", "saved": "已保存。", "deactivated": "账号已停用，其所有会话和 API 令牌已失效。",
    "reactivated": "账号已启用，可用原密码登录（旧会话和令牌不会恢复）。",
    "password": "密码已重置，该账号的所有会话和 API 令牌已失效。", "imported": "单位已导入。",
    "unit_added": "单位已添加，转办、协办和派单目录中即可选用。",
    "webhook_removed": "对接地址已删除，不再推送。", "redelivering": "已安排重发。",
    "token_revoked": "令牌已撤销，立即失效。",
    "open311_revoked": "Open311 密钥已撤销，该接入方提交的新诉求立即被拒绝（已提交的工单不受影响）。",
    "handed_over": "单位已停用，其未办完的工单、未答复的协办/二次派单部分和派单目录条目已移交承接单位（各工单的办理记录中可查）。",
}
# The units changed between the import's preview and its confirmation.
UNITS_CHANGED_SINCE_PREVIEW = "预览之后单位已有变动，以下是按现在的数据重新算出的变化，请再确认一次。"


_TICKET_NUMBER = re.compile(r"(?<![\d-])\d{8}-\d{4,}(?![\d-])")


def ticket_links(text: str) -> Markup:
    """A notice's text, escaped, each ticket number in it a link to the ticket (the day's digest)."""
    return Markup(_TICKET_NUMBER.sub(lambda m: f'<a href="/tickets/{m.group(0)}">{m.group(0)}</a>', str(escape(text))))

# The reply templates' page (常用语, web/pages/reply_templates.py): what it says after a step,
# and its heading for each list it keeps.
TEMPLATES_DONE_ZH = {"added": "常用语已添加。", "saved": "常用语已保存。", "deleted": "常用语已删除。"}
# What the admin's and the reply templates' pages ask before a step that cannot be taken back
# (web/static/confirm.js); 取消 leaves things as they were.
ADMIN_CONFIRM_ZH = {
    "revoke_open311": "确定撤销接入方「{name}」的密钥吗？撤销后立即失效，不能恢复；已提交的工单不受影响。",
    "delete_template": "确定删除常用语「{title}」吗？删除后不能恢复。",
}
TEMPLATES_HEADING_ZH = {"unit": "本单位常用语", "city": "全市通用常用语"}
# The ticket page's template picker, without a script: which reply box the chosen template fills.
TEMPLATE_PICKER_ZH = "常用语"

# 交接班 (web/pages/shift_handover.py): what the page says after a step.
HANDOVER_DONE_ZH = {"handed_over": "已交班，交班说明已留给下一班。", "taken_over": "已接班。"}

# 质检 (web/pages/quality.py): how the operator handled the classifier's proposal, and what
# the page says after a step.
QUALITY_CLASSIFICATION_ZH = {"accepted": "采纳分类建议", "corrected": "未采纳分类建议（改派）",
                             "not_transferred": "有分类建议，未转办", "none": "无分类建议"}
QUALITY_DONE_ZH = {"inspected": "已保存质检结果。"}
QUALITY_NOT_APPLICABLE_ZH = "不适用（非直接办结），按满分 {points} 分计"
