"""Closed vocabularies of the domain, with their Chinese labels in one place, and
sentences the domain writes for people to read (a reply, a unit's notice)."""
from __future__ import annotations

import enum


class Channel(str, enum.Enum):
    PHONE = "phone"
    SMS = "sms"
    WEB = "web"
    OPEN311 = "open311"  # civic apps through the Open311 GeoReport v2 API


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


class FollowUpOutcome(str, enum.Enum):
    """What an operator records after calling a citizen back about a resolved ticket."""

    SATISFIED = "satisfied"
    PARTLY = "partly"
    UNSATISFIED = "unsatisfied"
    UNREACHABLE = "unreachable"  # 未接通: counts as followed up, never as rated

    @property
    def rating(self) -> Rating | None:
        return None if self is FollowUpOutcome.UNREACHABLE else Rating(self.value)


class CloseReason(str, enum.Enum):
    """Why a resolved ticket was closed: only `rated` carries a rating."""

    RATED = "rated"
    UNREACHABLE = "unreachable"    # follow-up attempts used up: not rated
    NOT_RATED = "not_rated"        # nobody rated it in time: closed by the scheduler
    SUPERVISOR = "supervisor"      # closed by a supervisor, with a note


class EmergencyService(str, enum.Enum):
    """即时转: the emergency numbers a 12345 operator hands a caller over to."""

    POLICE = "110"
    FIRE = "119"
    AMBULANCE = "120"
    TRAFFIC = "122"


# Words in a request that mean the caller needs an emergency service now (dispatch/emergency.py):
# the console offers 即时转 to that number while the request is typed. A hint, never an action.
# The demo's history draws each ticket's type, but a title that says what it is keeps its own,
# the first of these that it names (a body is no cue: complaints often end 建议…处理).
DEMO_REQUEST_TYPE_CUES: tuple[tuple[RequestType, tuple[str, ...]], ...] = (
    (RequestType.PRAISE, ("表扬", "感谢", "点赞", "致谢")),
    (RequestType.REPORT, ("举报",)),
    (RequestType.COMPLAINT, ("投诉",)),
    (RequestType.SUGGESTION, ("建议",)),
    (RequestType.CONSULTATION, ("咨询", "请问")),
    (RequestType.HELP, ("求助",)),
)

# Words in a request that say what type it is (dispatch/request_type_hints.py): the console
# suggests the type of the one said first, beside its 诉求类型 while the request is typed. The
# type's own name, then words that mean it without naming it. A hint: the operator decides.
REQUEST_TYPE_CUES: dict[RequestType, tuple[str, ...]] = {
    RequestType.REPORT: ("举报", "偷排", "偷倒", "私排", "非法", "违法", "违规", "无证经营", "黑作坊", "传销"),
    RequestType.COMPLAINT: ("投诉", "扰民", "噪音", "噪声", "太吵", "油烟", "异味", "恶臭", "乱收费", "不作为",
                            "态度恶劣", "态度差", "拖欠", "欠薪", "没人管", "无人管", "不给退", "推诿", "占道",
                            "乱停"),
    RequestType.PRAISE: ("表扬", "点赞", "致谢", "锦旗", "感谢信", "非常感谢", "特别感谢"),
    RequestType.HELP: ("求助", "救助", "被困", "困在", "走失", "帮帮", "帮忙"),
    RequestType.SUGGESTION: ("建议", "希望增设", "能否增设", "希望增加", "能不能增加"),
    RequestType.CONSULTATION: ("咨询", "请问", "怎么办理", "如何办理", "需要什么材料", "在哪里办", "是否可以"),
}
# Said this way, a cue word is no cue: a complaint often ends by asking the departments to act.
REQUEST_TYPE_NOT_CUES = ("建议有关部门", "建议相关部门", "建议政府", "建议尽快", "建议你们", "建议领导")

EMERGENCY_WORDS: dict[EmergencyService, tuple[str, ...]] = {
    EmergencyService.FIRE: ("着火", "起火", "失火", "火灾", "大火", "冒烟", "浓烟", "烧起来", "火苗", "燃气泄漏",
                            "煤气泄漏", "爆炸"),
    EmergencyService.AMBULANCE: ("受伤", "昏迷", "晕倒", "倒地", "救护车", "急救", "流血", "出血", "没有呼吸",
                                 "心脏病发", "抽搐", "中毒", "骨折", "不省人事"),
    EmergencyService.TRAFFIC: ("车祸", "交通事故", "撞车", "追尾", "被车撞", "撞人", "翻车", "肇事逃逸"),
    EmergencyService.POLICE: ("打架", "斗殴", "抢劫", "持刀", "行凶", "砍人", "杀人", "绑架", "入室盗窃",
                              "正在偷", "家暴", "殴打", "威胁要杀"),
}
# Words that deny the emergency word right after them (没有着火, 不是车祸, 未受伤, 没人受伤), and
# the few words that may stand between (没有人受伤, 没有发生车祸, 无人员受伤). Kept short on
# purpose: a hint missed is worse than one too many (着火了，没有人管 still names 119).
EMERGENCY_NEGATIONS = ("没有", "没", "无", "不是", "未", "并非", "并未", "从未", "不曾", "没人", "无人")
EMERGENCY_NEGATION_FILLERS = ("人", "人员", "有人", "有", "发生", "出现", "造成")


class DialResult(str, enum.Enum):
    """How a call the hotline placed through the PBX went (回拨, 即时转的来电转接)."""

    ANSWERED = "dial_answered"      # the citizen answered the call from the operator's phone
    # The operator's phone answered, and the PBX said nothing of the citizen's leg in time.
    CONNECTED = "dial_connected"
    REDIRECTED = "dial_redirected"  # the caller was sent on to the emergency number
    BUSY = "dial_busy"
    NO_ANSWER = "dial_no_answer"
    FAILED = "dial_failed"
    HUNG_UP = "dial_hung_up"        # the caller had already hung up: nothing to transfer
    PBX_DOWN = "dial_pbx_down"      # no answer from the PBX: nothing was dialled

    @property
    def reached(self) -> bool:
        """The person called was reached: the citizen answered, or the caller was handed
        over. The operator's own phone answering (CONNECTED) is not reaching the citizen."""
        return self in (DialResult.ANSWERED, DialResult.REDIRECTED)


class PauseReason(str, enum.Enum):
    """Why an operator is 示忙 (paused in the queues); sent to the PBX as QueuePause's Reason,
    so queue_log and the PBX's PausedReason carry the same word."""

    BREAK = "break"            # 小休
    MEAL = "meal"              # 就餐
    TRAINING = "training"      # 培训
    MEETING = "meeting"        # 会议
    AFTER_CALL = "after_call"  # 话后整理


PAUSE_REASONS_ZH: dict[str, str] = {
    PauseReason.BREAK.value: "小休", PauseReason.MEAL.value: "就餐", PauseReason.TRAINING.value: "培训",
    PauseReason.MEETING.value: "会议", PauseReason.AFTER_CALL.value: "话后整理",
}


class DisputeStatus(str, enum.Enum):
    PENDING = "pending"
    UPHELD = "upheld"       # re-dispatched
    REFUSED = "refused"     # stays with the unit


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
    # A part the lead's own return (or a re-dispatch) took back before the part unit answered.
    WITHDRAWN = "withdrawn"


class TransferRole(str, enum.Enum):
    LEAD = "lead"          # 主办: answers the citizen
    CO = "co"              # 协办: gives a part reply to the lead
    FORWARD = "forward"    # 二次派单: the lead unit's sub-unit works it; the lead stays accountable


class Tier(str, enum.Enum):
    """考核 tiers: units are shown in these, not by rank (dispatch/assessment.py)."""

    A = "A"    # 好
    B = "B"    # 较好
    C = "C"    # 一般
    D = "D"    # 差


TIER_LABELS_ZH = {Tier.A: "好", Tier.B: "较好", Tier.C: "一般", Tier.D: "差"}


class QualityItem(str, enum.Enum):
    """质检 checklist items (dispatch/quality.py gives each its points)."""

    SERVICE = "service"      # 服务规范: greeting, courtesy, patience on the call
    INTAKE = "intake"        # 受理信息完整准确: type, place, phone, the request written down right
    ROUTING = "routing"      # 分类与派单正确: category and unit, the proposal accepted or corrected rightly
    REPLY = "reply"          # 答复规范（直接办结）: the answer given at intake


QUALITY_ITEMS_ZH = {QualityItem.SERVICE: "服务规范", QualityItem.INTAKE: "受理信息完整准确",
                    QualityItem.ROUTING: "分类与派单正确", QualityItem.REPLY: "答复规范（直接办结）"}


LABELS_ZH: dict[str, str] = {
    "phone": "电话", "sms": "短信", "web": "网站", "open311": "Open311 接口",
    "consultation": "咨询", "help": "求助", "complaint": "投诉", "report": "举报",
    "suggestion": "建议", "praise": "表扬",
    "normal": "一般", "urgent": "紧急",
    "received": "已受理", "answered": "直接办结", "transferred": "已转办", "returned": "已退单",
    "in_progress": "在办", "resolved": "已办结", "reopened": "重办", "closed": "已关闭",
    "invalid": "无效", "merged": "已合并", "handed_over": "已即时转",
    "unreachable": "未接通", "rated": "已评价", "not_rated": "未评价",
    "110": "110 报警", "119": "119 火警", "120": "120 急救", "122": "122 交通事故",
    "pending": "待审核", "upheld": "同意改派", "refused": "不同意改派",
    "dial_answered": "市民已接听",
    "dial_connected": "已呼出（话务员分机已接起，未获知市民是否接听；通话后请点“已回拨”记录）", "dial_redirected": "来电已转接",
    "dial_busy": "忙线", "dial_no_answer": "无人接听", "dial_failed": "呼叫失败",
    "dial_hung_up": "来电已挂断，未转接", "dial_pbx_down": "电话系统无响应，未拨出",
    "satisfied": "满意", "partly": "基本满意", "unsatisfied": "不满意",
    "operator": "话务员", "unit_staff": "承办单位", "supervisor": "督办员", "admin": "管理员",
}

# What a citizen reads of the states (the status page, texts, Open311): plain words, not the
# hotline's own (转办, 退单, 在办, 重办, 即时转); a unit's return is work in progress to them,
# not a refusal. Staff pages keep LABELS_ZH.
PUBLIC_LABELS_ZH: dict[str, str] = {
    **LABELS_ZH, "answered": "已答复", "transferred": "已交承办单位办理", "returned": "正在重新安排承办单位",
    "in_progress": "办理中", "reopened": "重新办理中", "merged": "已合并办理", "handed_over": "已转交紧急部门",
    "invalid": "已关闭（无效诉求）"}

REQUEST_TYPE_BY_ZH = {LABELS_ZH[t.value]: t for t in RequestType}


def parse_request_type(value: str | None) -> RequestType:
    """Accept the English value or the Chinese label; default to a complaint, the common case."""
    if value is None or value == "":
        return RequestType.COMPLAINT
    if value in REQUEST_TYPE_BY_ZH:
        return REQUEST_TYPE_BY_ZH[value]
    return RequestType(value)


# ---- Sentences the domain writes for people -----------------------------------------------
# Stored with what they tell (a ticket's reply, a unit's notice), so dispatch writes them and
# they cannot be the pages' words (web/pages/labels.py).

# The citizen's reply when the answer is an article for staff only: its words are the centre's
# internal guidance (口径), and the reply is public (the status page, the board, Open311).
INTERNAL_ANSWER_ZH = "已按有关政策规定答复。"
# After the beginning of a public article longer than a reply holds: where to read it all.
ARTICLE_CONTINUES_ZH = "……（全文见知识库 /kb/{article_id}）"

# A unit's notices (dispatch/notices.py): texted to the duty phone behind this signature, and
# their times (a deadline) as month, day and minute, China time; with the year when it is
# not this year (a deadline extended past the new year).
UNIT_SIGNATURE_ZH = "【12345热线】"
NOTICE_TIME_FORMAT_ZH = "%m月%d日%H:%M"
NOTICE_YEAR_TIME_FORMAT_ZH = "%Y年%m月%d日%H:%M"

# A supervisor's 督办, and a supervisor's decision on the unit's 延期 or 改派申请, with the
# supervisor's words after it.
ESCALATED_ZH = "工单{number}被督办：{note}"
# The citizen added to a ticket the unit holds (a text starting 补充, or more text soon after).
ADDITION_ZH = "工单{number}有市民补充：{note}"
# A supervisor corrected what was taken down at 受理 while the unit holds the ticket: which fields,
# never their values (a name, a number: the unit reads them on the ticket's page, as it may).
CORRECTED_ZH = "工单{number}的受理信息已修改（{fields}），请以工单页面上修改后的内容为准：{title}"
CORRECTION_FIELDS_ZH = {"type": "诉求类型", "urgency": "紧急程度", "phone": "来电号码", "name": "姓名",
                        "body": "诉求内容", "location": "事发地点", "confidential": "保密", "title": "标题",
                        "deadline": "办理时限"}
EXTENSION_APPROVED_ZH = "工单{number}的延期申请已同意{until}。"
NEW_DEADLINE_ZH = "，新的办理时限{deadline}"
EXTENSION_REFUSED_ZH = "工单{number}的延期申请未同意，请按原时限{deadline}办结。"
DISPUTE_UPHELD_ZH = "工单{number}的改派申请已同意，工单已收回重新派单，贵单位无需继续办理。"
DISPUTE_REFUSED_ZH = "工单{number}的改派申请未同意，请继续办理。"
DECISION_NOTE_ZH = "意见：{note}"
# The lead's 先行办结申请 decided by a supervisor: agreed (the 办结 is allowed now) or refused.
OVERRIDE_AGREED_ZH = "工单{number}的先行办结申请已同意，可不再等待协办单位答复，直接办结。意见：{note}"
OVERRIDE_REFUSED_ZH = "工单{number}的先行办结申请未同意，请等待协办单位答复。意见：{note}"
# Supervisors' notices (dispatch/staff_notices.py): the unit answered their 督办, a ticket they
# escalated was resolved, a request waits for a supervisor's decision.
ESCALATION_ANSWERED_NOTICE_ZH = "工单{number}「{title}」的督办已反馈（{unit}）：{note}"
ESCALATED_RESOLVED_NOTICE_ZH = "您督办的工单{number}「{title}」已办结（{unit}）。"
EXTENSION_REQUEST_NOTICE_ZH = "{unit}申请工单{number}「{title}」延期{days}个工作日，待审批：{note}"
DISPUTE_REQUEST_NOTICE_ZH = "{unit}对工单{number}「{title}」提出改派申请，待处理：{note}"
OVERRIDE_REQUEST_NOTICE_ZH = "{unit}申请工单{number}「{title}」先行办结，待审批：{note}"

# Deadlines chased by the clock (dispatch/chasing.py): 临期预警, 超期 and the scheduler's 督办,
# to the lead and to a unit with a part still owing its answer. {part} is empty for the lead,
# PART_ZH for a part: its role after the ticket's number.
PART_ZH = "（{role}）"
PART_ROLES_ZH = {TransferRole.CO.value: "协办", TransferRole.FORWARD.value: "二次派单"}
NEAR_DUE_ZH = "临期预警：工单{number}{part}「{title}」将于{deadline}到期，请及时办理。"
OVERDUE_ZH = "超期：工单{number}「{title}」已于{deadline}超过办理时限，请尽快办结。"
PART_OVERDUE_ZH = "超期：工单{number}{part}「{title}」已于{deadline}超过办理时限，请尽快答复主办单位。"
# The scheduler's 督办 says how long the ticket is overdue; that and the deadline are the
# escalate event's note too (AUTO_ESCALATION_NOTE_ZH).
OVERDUE_FOR_ZH = "超期未办结已满{working_days}个工作日，自动督办"
AUTO_ESCALATION_NOTE_ZH = "{overdue_for}（时限{deadline}）。"
AUTO_ESCALATED_ZH = "督办：工单{number}「{title}」{note}请立即办理并回复。"
PART_AUTO_ESCALATED_ZH = "督办：工单{number}{part}「{title}」{overdue_for}（时限{deadline}），请立即答复主办单位。"


def digest_text(due: int, hours: int, shown: list[str], overdue: int, *, warned: int = 0) -> str:
    """The day's digest of a unit (今日临期): how many are due within `hours`, the first
    numbers (等 when there are more), and how many are already overdue, if any. `warned`:
    how many of them the unit was warned of one by one today, counted but not named."""
    named = len(shown) + warned
    listed = "、".join(shown) + ("等" if due > named else "")
    if warned:
        listed += ("，" if shown else "") + f"{warned}件已逐件预警"
    text = f"今日临期：{due}件工单将在{hours}小时内到期（{listed}）"
    if overdue:
        text += f"，另有{overdue}件已超期"
    return text + "，请及时办理。"


# 协办 and 二次派单 (dispatch/co_handling.py, dispatch/forwarding.py): the part's unit is asked,
# and the lead hears what became of a part (PART_NEWS_ZH with PART_REPLIED_ZH or PART_RETURNED_ZH).
CO_HANDLING_ZH = "工单{number}请贵单位协办：{title}"
FORWARDED_ZH = "{parent}将工单{number}二次派单给贵单位：{title}"
PART_NEWS_ZH = "工单{number}：{unit}{news}"
PART_REPLIED_ZH = "已答复"
PART_RETURNED_ZH = "退回：{reason}"

# A knowledge base article past its review-by date, to its unit (dispatch/kb.py).
KB_REVIEW_ZH = "知识库文章《{title}》已过复核日期（{review_by}），请复核更新。"

# New work for a unit: a ticket transferred to it, and one its citizen sent back (重办).
TRANSFERRED_ZH = "新转办工单{number}：{title}"
# A retired unit's open ticket or owed part handed to its successor (dispatch/unit_succession.py).
SUCCEEDED_ZH = "「{unit}」已停用，工单{number}移交贵单位办理：{title}"
REOPENED_ZH = "工单{number}市民不满意，已重办，请重新签收办理：{title}"
REOPENED_BY_DISPATCH_ZH = "工单{number}已重办，请重新签收办理：{title}"
# The parent resolved a ticket its sub-unit had not answered yet: the part is taken back.
FORWARD_WITHDRAWN_ZH = "{parent}已办结工单{number}，二次派单给贵单位的部分已收回，无需继续办理。"

# A missed call whose citizen got through on their own later, its callback closed with this
# note (dispatch/telephony.py as the call is recorded; the demo's history alike).
CALLED_AGAIN_NOTE_ZH = "市民已再次来电并接通，无需回拨"
# The same number's other missed calls, once an operator has reached it calling back.
SAME_NUMBER_REACHED_NOTE_ZH = "已回拨该号码另一次未接来电并接通，无需重复回拨"
# The same number's other missed calls, once an operator has marked one 已回拨 by hand (their note).
SAME_NUMBER_MARKED_NOTE_ZH = "该号码另一次未接来电已标记为已回拨（{note}），无需重复回拨"

# ---- An administrator's unit import and edits (dispatch/unit_admin.py) ----------------------
# Problems told in the import's own terms (the file's keys: code, name, kind, parent ...), each
# after where it is: {where} is the line and the unit, as UNIT_WHERE_*_ZH say it.
UNIT_PROBLEMS_JOINED_BY_ZH = "；"
UNIT_KIND_WORDS_ZH = {"department": "部门", "township": "乡镇街道", "other": "其他"}
UNIT_KIND_CHOICE_ZH = "{kind}（{words}）"
UNIT_KIND_CHOICES_JOINED_BY_ZH = "、"
UNIT_WHERE_ZH = "单位 {code}"
UNIT_WHERE_LINE_ZH = "第 {line} 行（第 {index} 个单位）"
UNIT_WHERE_INDEX_ZH = "第 {index} 个单位"
UNIT_WHERE_AND_CODE_ZH = "{where}，单位 {code}"
UNIT_IMPORT_TOO_LONG_ZH = "内容过长（超过 {thousands} 千字符）"
UNIT_IMPORT_NOTHING_ZH = "请粘贴或上传单位 JSON"
UNIT_IMPORT_NOT_A_LIST_ZH = '内容应为城市文件（含 "units" 列表）或单位列表 [{"code": ..., "name": ...}, ...]'
UNIT_IMPORT_EMPTY_LIST_ZH = "单位列表是空的"
UNIT_CODE_REPEATED_ZH = "{where}：单位 {code} 重复（第 {first_line} 行已有）"
UNIT_NAME_REPEATED_ZH = "{where}：名称「{name}」与第 {first_line} 行的单位 {first_code} 相同"
UNIT_NOT_AN_OBJECT_ZH = '{where}：应为一个单位对象 {{"code": ..., "name": ...}}'
UNIT_BAD_CODE_ZH = "{where}：code 应为 1–64 位字母、数字或 _ . -，收到 {value}"
UNIT_NO_NAME_ZH = "{where}：缺少名称 name"
UNIT_BAD_PARENT_ZH = "{where}：上级单位 parent 应为单位 code 或 null，收到 {value}"
UNIT_BAD_ACTIVE_ZH = "{where}：active 应为 true 或 false，收到 {value}"
UNIT_BAD_DUTY_PHONE_ZH = "{where}：值班电话 duty_phone 不是有效号码，收到 {value}"
# {at}: UNIT_AT_LINE_ZH for a unit of a file, UNIT_WHERE_ZH for the one typed into the form.
UNIT_AT_LINE_ZH = "第 {line} 行，单位 {code}"
UNIT_PARENT_UNKNOWN_ZH = "{at}：上级单位 {parent} {missing}"
UNIT_PARENT_NOT_IN_FILE_ZH = "不在文件中"
UNIT_PARENT_NOT_IN_FILE_OR_SYSTEM_ZH = "既不在文件中，也不在系统中"
UNIT_PARENT_IS_ITSELF_ZH = "{at}：上级单位不能是自己"
UNIT_PARENT_LOOP_ZH = "{at}：上级单位形成循环（{path}）"
UNIT_NAME_OF_KEPT_UNIT_ZH = "{at}：名称「{name}」已是单位 {other} 的名称"
# The units page's form adding one unit: where its problems are, and a code already taken.
UNIT_WHERE_NEW_ZH = "新增单位"
UNIT_CODE_TAKEN_ZH = "单位代码 {code} 已被「{name}」使用（单位不会被删除，停用的单位也占用代码），请换一个代码"
UNIT_NAME_EMPTY_ZH = "{where}：名称不能为空"
UNIT_NAME_TOO_LONG_ZH = "{where}：名称最多 {limit} 个字"
UNIT_NAME_UNSTORABLE_ZH = "{where}：名称含有无法保存的字符"
UNIT_BAD_KIND_ZH = "{where}：类型 kind 应为 {kinds}，收到 {value}"

# ---- Why routing proposed a unit, or left the ticket to an operator (dispatch/routing.py) ----
# Shown on the ticket's page and the operator's console, and kept with the ticket's routing.
# Before the model is asked: a text without content goes to manual triage, keyed by
# classifier.text.ContentProblem's values.
CONTENT_REASONS_ZH = {
    "empty": "内容为空，需人工分拣",
    "no_chinese": "没有中文内容，需人工分拣",
    "too_long": "内容过长（疑似粘贴），需人工分拣",
    "no_content_words": "只有问候或虚词，无具体诉求，需人工分拣",
    "too_short": "内容过少，需人工分拣",
}
ROUTED_BY_RULE_ZH = "规则：含“{phrase}”"
MODEL_NOT_READY_ZH = "分类模型尚未就绪"
LOW_CONFIDENCE_ZH = "置信度 {probability:.0%} 低于 {threshold:.0%}，请人工分派"
# Beside each suggested unit below that threshold (the ticket page, the console's proposal).
LOW_CONFIDENCE_MARK_ZH = "置信度低"
ENTRY_DISAGREES_ZH = "派单目录（{entry}）与模型分类（{model}）不一致，请人工分派"
# A suggestion's detail: the model's category and probability, the place that chose a
# township, and the catalogue entry with what found it (its terms, or the level-3 model).
BY_MODEL_ZH = "模型：{category} {probability:.0%}"
BY_PLACE_ZH = "；属地：{place}"
BY_ENTRY_ZH = "目录：{path}（{found}）；" + BY_MODEL_ZH
ENTRY_TERMS_ZH = "含“{terms}”"
ENTRY_TERMS_JOINED_BY_ZH = "”“"
ENTRY_MODEL_ZH = "三级模型 {score:.0%}"

# ---- A citizen's texts (dispatch/notifications.py) ------------------------------------------
# Reviewed here with the other sentences, for wording and length (two SMS segments at most);
# notifications.py fills them. Chinese carriers require a bracketed sender signature.
SMS_SIGNATURE_ZH = "【12345】"
OPT_OUT_HINT_ZH = "回复TD退订"
SMS_DAY_ZH = "{month}月{day}日"
# A day in another year than this one (China time).
SMS_YEAR_DAY_ZH = "{year}年{month}月{day}日"
# Notifications by kind (notifications.Kind), with ${name} for what varies: the same text is
# the template approved at a provider that sends by template (Alibaba Cloud).
NOTIFICATIONS_ZH: dict[str, str] = {
    "received": "您的诉求已受理，工单号${number}，查询码${code}。回复“查询 ${number}”查进度，" + OPT_OUT_HINT_ZH + "。",
    "repeat_code": "您再次反映的问题已并入在办工单${number}，查询码${code}。回复“查询 ${number}”查进度，"
                   + OPT_OUT_HINT_ZH + "。",
    "transferred": "您的工单${number}已转交${unit}办理${deadline}。" + OPT_OUT_HINT_ZH + "。",
    "resolved": "您的工单${number}已办结：${reply}。请回复数字评价：1满意 2基本满意 3不满意。" + OPT_OUT_HINT_ZH + "。",
    "main_resolved": "您的工单${number}（与相同问题合并办理）已办结：${reply}。请回复数字评价：1满意 2基本满意 3不满意。"
                     + OPT_OUT_HINT_ZH + "。",
    "merged": "您的工单${number}反映的问题其他市民也已反映，已合并办理，办结后短信告知您。" + OPT_OUT_HINT_ZH + "。",
    "reopened": "您对工单${number}的办理结果不满意，已交${unit}重新办理。" + OPT_OUT_HINT_ZH + "。",
    "extended": "您的工单${number}因办理需要，办理时限延长至${deadline}。" + OPT_OUT_HINT_ZH + "。",
}
# A notification's parts that vary: the deadline after the unit, the unit when none is named.
SMS_DEADLINE_ZH = "，办理时限{day}"
SMS_ANY_UNIT_ZH = "承办单位"
# What ends a reply cut to fit the text: where the citizen reads all of it. With the
# deployment's public address, the status page's (spaces keep a phone's link finder from
# taking the Chinese into the address); else the words alone.
REPLY_CUT_LINK_ZH = "（完整答复请凭查询码到 {url} 查看）"
REPLY_CUT_ZH = "（完整答复请凭工单号和查询码在网站查询）"

# Replies to a citizen's text, after the signature. {v} in REPLY_STATUS_UNIT_ZH and
# REPLY_REOPENED_ZH is what is shortened when the whole would not fit.
REPLY_RECEIVED_ZH = "您的诉求已受理，工单号{number}，查询码{code}。回复“查询 {number}”查进度。"
REPLY_REPEAT_ZH = "您反映的问题已在办理中（工单号{number}），已记录您的再次反映。"
REPLY_ATTACHED_ZH = "已将您的补充内容加入工单{number}。如是新的诉求，请以“新诉求”开头重新发送。"
REPLY_STATUS_ZH = "工单{number}：{state}"
REPLY_STATUS_UNIT_ZH = "，承办单位{v}"
REPLY_STATUS_OVERDUE_ZH = "，已超期"
REPLY_STATUS_END_ZH = "。"
REPLY_REOPENED_ZH = "收到您的评价（不满意），工单{number}已交{v}重新办理{deadline}。"
REPLY_RATED_ZH = "感谢您的评价（{rating}），工单{number}已办结。"
REPLY_NOT_FOUND_ZH = "未查到该工单。请核对工单号，或发送“查询 工单号 查询码”。"
REPLY_NO_TICKETS_ZH = "未查到本号码提交的工单。请发送“查询 工单号 查询码”。"
REPLY_NOTHING_TO_RATE_ZH = "您目前没有待评价的工单。直接发送文字即可反映新的问题。"
# 评价 texted alone: the question of the ticket waiting for a rating again, or how rating
# works when none waits (the word is no complaint to file).
REPLY_HOW_TO_RATE_ZH = "您的工单{number}已办结，请回复数字评价：1满意 2基本满意 3不满意。"
REPLY_HOW_TO_RATE_LATER_ZH = "您目前没有待评价的工单。工单办结后我们会短信请您评价，届时回复数字即可：1满意 2基本满意 3不满意。"
REPLY_NOTHING_TO_ADD_TO_ZH = "您没有在办的工单，已作为新的诉求登记。"
REPLY_OPTED_OUT_ZH = "您已退订办理进度短信。回复“订阅”或START可重新订阅。"
REPLY_OPTED_IN_ZH = "您已重新订阅办理进度短信。" + OPT_OUT_HINT_ZH + "。"
REPLY_EMPTY_ZH = "请直接发送您要反映的问题，我们将为您登记受理。"
# A text taken while the database is down (web/sms.py spools it, files it later).
REPLY_SPOOLED_ZH = "您的短信已收到。系统正在维护，登记后将另发短信告知工单号。紧急情况请拨打12345。"
REPLY_THROTTLED_ZH = "您发送的短信过于频繁，本条短信未受理，请{minutes}分钟后再发。评价办结工单的回复不受此限。紧急情况请拨打12345。"
REPLY_INVALID_ZH = "您的短信无法受理，请精简内容后重新发送，或拨打12345。"
REPLY_LOOKUPS_REFUSED_ZH = "查询失败次数过多，请{minutes}分钟后再试。"

# The staff activity log's note when a deactivated account's phone extension goes to another
# account (dispatch/staff_admin.py): the phone on the desk is the seat's, not the person's.
EXTENSION_TAKEN_OVER_ZH = "已停用账号的分机号，改由账号「{username}」使用"
EXTENSION_FREED_ZH = "账号停用，分机号随之释放"

# A reply template's placeholders (常用语, dispatch/reply_templates.py), filled in where a
# template is offered for one ticket: its number, and the day (China time) in words.
TEMPLATE_NUMBER_ZH = "{编号}"
TEMPLATE_DATE_ZH = "{日期}"
TEMPLATE_DAY_ZH = SMS_YEAR_DAY_ZH

# A photo removed because its ticket was closed longer than the retention period
# (HOTLINE_ATTACHMENT_RETENTION_DAYS, dispatch/attachment_retention.py): the reason in its log.
PHOTO_EXPIRED_ZH = "工单办结已满{days}天，按图片保存期限自动删除"
# A retired unit's resolved ticket reopened: it goes to the unit that took the retired one's duties.
REOPENED_TO_SUCCESSOR_ZH = "原承办单位「{unit}」已停用，重办工单移交承接单位办理"
# One retired with no successor: nobody can take it there, so it waits for an operator to dispatch it.
REOPENED_TO_TRIAGE_ZH = "原承办单位「{unit}」已停用且未指定承接单位，重办工单转人工分派，请重新转办"
