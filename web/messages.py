"""The Chinese words of every error a person may read: one sentence per reason code
(dispatch.errors.Reason), the names of the fields they are about, and the words of the
error pages. Pages, the JSON API and the CLI all speak through describe(). Also the lines
the `hotline` command prints besides errors (its progress, its import summaries, the
`hotline report` tables): this module is light to import, as the command needs."""
from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from dispatch.errors import DispatchError, InvalidInput, Reason
from dispatch.vocabulary import QUALITY_ITEMS_ZH

# What a field is called on the forms, for sentences like "请填写{field}。".
FIELDS_ZH: dict[str, str] = {
    "webhook_url": "对接地址", "token_name": "令牌用途",
    "body": "诉求内容", "title": "标题", "phone": "联系电话", "name": "姓名", "location": "地点",
    "type": "诉求类型", "urgency": "紧急程度", "confidential": "是否保密",
    "reason": "理由", "reply": "答复内容", "note": "说明", "unit": "承办单位", "into": "主工单号",
    "working_days": "延期天数", "days": "天数", "approve": "审批决定", "again": "确认再次督办", "rating": "回访结果",
    "to": "即时转对象", "flag_number": "恶意号码标记", "phrases": "关键词", "expected_version": "页面版本",
    "username": "用户名", "password": "密码", "user": "账号", "state": "工单状态", "page": "页码", "updated_since": "更新时间起点",
    "since": "开始日期", "until": "结束日期", "month": "月份", "path": "地址", "city": "城市配置", "catalogue": "派单目录配置", "taxonomy": "派单目录分类表", "category": "派单目录类别", "level": "目录层级", "terms": "匹配关键词", "deadline_class": "时限类别", "deadlines": "时限配置",
    "text": "说明", "decision": "审批决定", "display_name": "姓名", "phone_extension": "分机号", "role": "角色", "parent": "上级单位",
    "kind": "类型", "units": "单位列表", "changes": "受理信息", "user_id": "账号", "?": "字段名",
    "day": "日期", "start": "开始日期", "end": "结束日期", "festival": "节日名称", "lines": "导入内容",
    "year": "年份", "co_units": "协办单位", "duty_phone": "值班电话", "file": "文件",
    "api_key": "接入密钥", "service_code": "服务类别", "description": "诉求内容", "lat": "纬度", "long": "经度",
    "address_string": "地址", "email": "电子邮箱", "first_name": "名", "last_name": "姓", "device_id": "设备编号",
    "account_id": "账号", "media_url": "图片链接", "attribute": "附加字段", "start_date": "开始时间",
    "end_date": "结束时间", "status": "状态", "service_request_id": "诉求编号", "jurisdiction_id": "辖区",
    "keywords": "关键词", "public": "是否公开", "valid_from": "生效日期",
    "valid_until": "失效日期", "review_by": "复核日期", "line": "这一行", "article": "知识库文章",
    "q": "搜索内容", "limit": "条数", "article_body": "正文", "article_id": "知识库文章", "notice": "通知",
    "progress": "办理进展", "successor": "承接单位", "answer_confirmed": "确认不是紧急情况",
    "photos": "图片", "attachment_id": "图片编号", "fetch_id": "彩信图片编号", "template_title": "常用语标题", "template_text": "常用语内容", "template": "常用语",
    "handover_note": "交班说明", "quality_comment": "质检评语", "seed": "抽样编号", "number": "工单号",
    **{f"score_{item.value}": words for item, words in QUALITY_ITEMS_ZH.items()},
}

_STALE = "该工单已被他人处理或修改，您看到的是旧内容，本次操作没有保存。请查看最新状态后再操作。"
_LATER = "请稍后再试。紧急情况请拨打12345。"

# One sentence per reason; {field} is the field's Chinese name, the rest is the error's data.
REASONS_ZH: dict[Reason, str] = {
    Reason.REQUIRED: "请填写{field}。",
    Reason.TOO_LONG: "{field}不能超过 {limit} 个字。",
    Reason.REPLY_TOO_SHORT: "答复市民的内容至少需要 {limit} 个字（不计首尾空格），现在只有 {length} 个字：请写明办理经过和结果。",
    Reason.NOT_TEXT: "{field}应为文字。",
    Reason.NOT_INTEGER: "{field}应为整数。",
    Reason.NOT_BOOLEAN: "{field}应为 true 或 false。",
    Reason.NOT_POSITIVE: "{field}应为正数。",
    Reason.DECISION_REQUIRED: "请选择同意（true）或不同意（false）。",
    Reason.OUT_OF_RANGE: "{field}应在 {low} 到 {high} 之间。",
    Reason.INVALID_PHONE: "联系电话「{value}」不是有效的号码。请填写11位手机号或带区号的固定电话，"
                          "例如 13812345678 或 0391-6612345；其他说明请写在诉求内容里。",
    Reason.INVALID_DUTY_PHONE: "值班电话「{value}」不是有效的号码。请填写11位手机号或带区号的固定电话，"
                               "例如 13812345678 或 0391-6612345，不需要时留空。",
    Reason.PHONE_REQUIRED: "这个渠道的诉求需要来电号码。",
    Reason.NO_PHONE_TO_CALL: "这件工单没有联系电话，无法回拨。",
    Reason.NO_PHONE_TO_FLAG: "该工单没有来电号码，无法标记。",
    Reason.UNKNOWN_UNIT: "没有代码为「{code}」的承办单位。",
    Reason.INACTIVE_UNIT: "「{unit}」已停用，不能再接收工单。",
    Reason.BAD_UNIT_LIST: "{field}应为单位代码的列表。",
    Reason.CO_UNIT_IS_LEAD: "「{unit}」已是主办单位，不能同时作为协办单位。",
    Reason.CO_UNIT_REPEATED: "协办单位「{unit}」重复了。",
    Reason.NOT_A_SUB_UNIT: "「{unit}」不是「{parent}」的下级单位，只能二次派单给本单位的下级单位。",
    Reason.UNIT_REQUIRED: "请选择{what}。",
    Reason.UNKNOWN_TICKET: "没有工单「{number}」。",
    Reason.MERGE_INTO_ITSELF: "工单不能合并到它自己。",
    Reason.MERGE_TARGET_CLOSED: "工单「{number}」的状态为「{state}」，不能作为主工单。",
    Reason.NOT_CALLERS_OPEN_TICKET: "工单「{number}」不是该来电号码的在办工单，不能受理并并入：请先受理，再在工单页合并。",
    Reason.BAD_OUTCOME: "回访结果应为满意、基本满意、不满意或未接通"
                        "（satisfied、partly、unsatisfied、unreachable）。",
    Reason.BAD_HANDOVER_NUMBER: "只能转 110、119、120 或 122。",
    Reason.EMERGENCY_NOT_ANSWERED: "诉求内容疑似紧急情况（建议即时转 {numbers}），未直接办结。请即时转，"
                                   "或核实不是紧急情况后确认再直接办结。",
    # 受理并转办 from the console (dispatch/proposal_transfer.py): refused, nothing is filed.
    Reason.NO_PROPOSAL: "没有智能分派建议（{reason}），不能受理并转办：请先受理，再在工单页选择承办单位。",
    Reason.NOT_PROPOSED: "分派建议已随内容变化，「{code}」不在当前建议中：请核对下方的建议后重新选择，或先受理再在工单页转办。",
    Reason.NO_UNIT_FOR_CATEGORY: "类别「{category}」没有可接收工单的承办单位（单位代码「{code}」不存在）：请先受理，再在工单页选择承办单位。",
    Reason.BAD_REQUEST_TYPE: "请选择诉求类型：咨询、求助、投诉、举报、建议或表扬"
                             "（consultation、help、complaint、report、suggestion、praise）。",
    Reason.BAD_URGENCY: "紧急程度应为普通（normal）或紧急（urgent）。",
    Reason.BAD_STATE: "工单状态应为以下之一：{states}。",
    Reason.BAD_STATE_CHOICE: "工单状态应为以下之一：{state_names}。",
    Reason.BAD_CHANNEL: "渠道应为电话、短信、网站或 Open311 接口（phone、sms、web、open311）。",
    Reason.BAD_DUE: "办理时限应为超期或临期（overdue、near）。",
    Reason.BAD_PAGE: "页码应为从 1 开始的整数。",
    Reason.BAD_CURSOR: "cursor 无效：请原样使用上一页返回的 next_cursor，或去掉 cursor 从第一页读起。",
    Reason.NOT_WITH_WORDS: "{field}不能与按文字搜索（q）同时使用，请按工单号、电话搜索，或去掉 q。",
    Reason.ALREADY_RATED: "这件工单已经评价过了。",
    Reason.TOO_MANY_PHRASES: "一条规则最多 {limit} 个关键词。",
    Reason.TOO_MANY_TERMS: "一类最多 {limit} 个匹配词。",
    Reason.PHRASE_LENGTH: "关键词「{phrase}」应为 {low} 到 {high} 个字。",
    Reason.CALLBACK_NOTE_REQUIRED: "请说明是如何联系到市民的。",
    Reason.PAGE_EXPIRED: "页面已过期，请刷新后再操作。",
    Reason.RATING_REQUIRED: "请选择满意、基本满意或不满意。",
    Reason.CANNOT_RATE: "这件工单现在不能评价：可能已经评价过，或尚未办结。",
    Reason.TYPE_AND_URGENCY_REQUIRED: "请选择诉求类型和紧急程度。",
    Reason.BAD_AGENT: "分机格式不对，例如 PJSIP/7001。",
    Reason.NO_AGENT: "请先在上方选择您的分机，回拨时先响您的话机。",
    Reason.NO_PBX: "电话系统未接入，无法一键回拨：请用座机拨打后在下方记录结果。",
    Reason.BAD_PAUSE_REASON: "请选择示忙原因（小休、就餐、培训、会议、话后整理）。",
    Reason.NOT_YOUR_PHONE: "只能为自己所选的分机示忙或示闲，{interface} 不是您的分机。",
    Reason.PAUSE_REFUSED: "交换机拒绝了 {interface} 的示忙/示闲（{message}）：请确认该分机已登录队列。",
    Reason.PAUSE_NO_PBX: "电话系统未接入，无法示忙或示闲，请稍后再试。",
    Reason.BAD_CALENDAR_KIND: "类型「{value}」不对，应为节假日（holiday）或调休上班（workday）。",
    Reason.BAD_CALENDAR_LINE: "「{value}」看不懂：每行应为「日期 类型 名称」，例如 2027-01-01 holiday 元旦，"
                              "或 2027-02-15..2027-02-21 节假日 春节。",
    Reason.WORKDAY_NOT_WEEKEND: "{day} 不是周六或周日，本来就上班，设为调休上班没有意义。",
    Reason.DAY_REPEATED: "{day} 重复出现（第 {first} 行已有这一天）。",
    Reason.DAY_ALREADY_SET: "{day} 已录入为{calendar_kind}（{festival}），如需修改请先删除这一天。",
    Reason.NOTHING_CORRECTED: "没有修改任何受理信息：请改正诉求类型、紧急程度、来电号码、诉求内容或事发地点后再保存。",
    Reason.NOTHING_TO_IMPORT: "没有可导入的行：每行一天或一段日期，例如 2027-01-01 holiday 元旦。",
    Reason.PASSWORD_TOO_SHORT: "密码至少 {limit} 个字符。",
    Reason.PASSWORD_TOO_LONG: "密码最多 {limit} 个字符。",
    Reason.PASSWORD_TOO_SIMPLE: "密码过于简单（至少用 3 个不同的字符）。",
    Reason.PASSWORD_IS_USERNAME: "密码不能与用户名相同。",
    Reason.PASSWORDS_DIFFER: "两次输入的密码不一致。",
    Reason.USERNAME_TAKEN: "用户名「{username}」已存在。",
    Reason.USERNAME_LOOKALIKE: "用户名「{username}」与已有账号「{existing}」只差大小写或全角半角，容易混淆，请换一个。",
    Reason.UNKNOWN_ACCOUNT: "没有账号「{username}」。",
    Reason.ACCOUNT_INACTIVE: "账号「{username}」已停用。",
    Reason.UNIT_STAFF_NEED_UNIT: "承办单位人员必须属于一个单位。",
    Reason.BAD_USERNAME: "用户名为 2–80 个字符，只能用字母、数字、汉字和 . _ @ -。",
    Reason.BAD_PHONE_EXTENSION: "分机号为 1–40 个字符，只能用数字、字母和 . _ + -（如 7001，或 PJSIP/7001）。",
    Reason.UNIT_HAS_OPEN_WORK: ("「{unit}」还有 {tickets} 件未办完的工单、{parts} 个未答复的协办/二次派单部分，不能直接停用："
                                "请选择承接单位，这些工作将移交给它。"),
    Reason.CATALOGUE_UNIT_RETIRED: "「{unit}」已停用，不再承办新工单：请为这一类改选一个在用的承办单位（或只按属地派单）。",
    Reason.SUCCESSOR_IS_ITSELF: "承接单位不能是「{unit}」自己。",
    Reason.SUCCESSOR_NOT_ACTIVE: "承接单位「{code}」不存在或已停用，请选择一个在用的单位。",
    Reason.PHONE_EXTENSION_TAKEN: "分机号 {extension} 已属于账号「{username}」：一个分机只对应一个账号。",
    Reason.ROLE_REQUIRED: "请选择角色。",
    Reason.CANNOT_DEACTIVATE_SELF: "不能停用自己的账号。",
    Reason.OWN_ADMIN_ACCOUNT: "不能{what}自己的管理员账号（请由另一位管理员操作）。",
    Reason.LAST_ADMIN: "{username} 是最后一位在用的管理员，不能{what}。",
    Reason.NO_ACTIVE_UNIT: "没有在用的单位「{code}」。",
    Reason.PARENT_NOT_FOUND: "上级单位「{parent}」不存在。",
    Reason.PARENT_LOOP: "上级单位形成循环：{path}。",
    Reason.UNIT_NAME_TAKEN: "单位 {code} 已叫「{name}」，两个单位同名在转办、协办列表中无法区分，请换一个名称。",
    Reason.BAD_ACTIVITY_KIND: "没有这种操作类型。",
    Reason.ONLY_UNIT_STAFF_HAVE_UNIT: "只有承办单位人员属于单位，{role}不属于任何单位：请把所属单位留空（—），或把角色改为承办单位工作人员。",
    Reason.WEBHOOK_URL_INVALID: "对接地址「{value}」不是有效的网址，请填写以 https:// 或 http:// 开头的完整地址。",
    Reason.WEBHOOK_URL_LOCAL: "对接地址「{value}」指向本机链路地址或保留地址，不能作为单位系统的地址，请填写单位系统的网址。",
    Reason.WEBHOOK_URL_PRIVATE: "对接地址「{value}」指向本机或内部网络地址（回环地址、私有网段），为防止借对接地址访问内部服务，"
                                "不能作为单位系统的地址；单位系统确在封闭的政务网络内时，须由运维人员开启 "
                                "HOTLINE_WEBHOOK_ALLOW_PRIVATE 设置。",
    Reason.FILE_UNREADABLE: "无法读取{field}文件 {path}：{error}",
    Reason.FILE_NOT_FOUND: "找不到{field}文件 {path}。",
    Reason.FILE_IS_FOLDER: "{path} 是文件夹，不是{field}文件。",
    Reason.FILE_NO_PERMISSION: "没有读取{field}文件 {path} 的权限。",
    Reason.NOT_UTF8: "文件 {name} 不是 UTF-8 编码的文本，请另存为 UTF-8 后再导入。",
    Reason.BAD_IDEMPOTENCY_KEY: "Idempotency-Key 应为 1 至 {limit} 个可打印的 ASCII 字符（例如一个 UUID）。",
    Reason.IDEMPOTENCY_KEY_REUSED: ("这个 Idempotency-Key 已用于内容不同的另一个请求：重试时请原样重发同一请求，"
                                    "新的请求请换一个新的 Idempotency-Key。"),
    Reason.IDEMPOTENCY_IN_PROGRESS: "使用这个 Idempotency-Key 的请求正在处理中，请稍后用同一请求重试。",
    Reason.JSON_NOT_UTF8: "请求内容不是 UTF-8 编码（例如 GBK）：JSON 请求须用 UTF-8 编码。",
    Reason.UNKNOWN_CHARSET: "不支持字符集「{charset}」：请用 UTF-8（或 GBK、GB18030）编码表单，并在 Content-Type 中写明。",
    Reason.NOT_IN_CHARSET: "表单内容不是有效的 {charset} 编码：请按 Content-Type 中声明的字符集编码（未声明即 UTF-8）。",
    Reason.FORM_TOO_MANY_FIELDS: "表单字段过多，最多 {limit} 个。",
    Reason.FILE_EMPTY: "文件 {name} 是空的。",
    Reason.JSON_SYNTAX: "文件 {name} 第 {line} 行第 {column} 列：JSON 格式有误，{problem}。这一行是：{text}",
    Reason.JSON_SYNTAX_TEXT: "第 {line} 行第 {column} 列：JSON 格式有误，{problem}。这一行是：{text}",
    Reason.FILE_PROBLEMS: "{name} 有 {count} 处错误，其中的内容都没有使用。",
    Reason.WRONG_TYPE: "{where}应为{should_be}，收到 {got}。",
    Reason.FIELD_MISSING: "{where}缺少 {key}。",
    Reason.EMPTY_VALUE: "{where}不能为空。",
    Reason.UNKNOWN_KEY: "{where}中的「{key}」无法识别，会被忽略（是否写错？可用的有：{known}）。",
    Reason.REPEATED_KEY: "{where}中的「{key}」写了不止一次，只有最后一个会生效：请合并或删去重复的。",
    Reason.CATEGORY_UNKNOWN_UNIT: "类别（categories）「{category}」指向不存在的单位「{code}」：单位列表（units）中没有这个 code。",
    Reason.LOCAL_CATEGORY_UNKNOWN: "属地类别（local_categories）中的「{category}」不在类别（categories）中。",
    Reason.GAZETTEER_UNKNOWN_UNIT: "地名表（gazetteer）中的「{code}」不是单位列表（units）中的单位 code。",
    Reason.PLACE_NAME_TOO_SHORT: "地名表（gazetteer）「{code}」中的地名「{name}」不足 {low} 个字，无法用来判断属地，请写完整的地名。",
    Reason.PLACE_NAME_REPEATED: "地名表（gazetteer）中的地名「{name}」同时列在「{first}」和「{second}」下，无法判断属地，请只保留一处。",
    Reason.RULE_UNKNOWN_UNIT: "分派规则（routing_rules）第 {number} 条指向不存在的单位「{code}」：单位列表（units）中没有这个 code。",
    Reason.RULE_TOO_MANY_PHRASES: "分派规则（routing_rules）第 {number} 条的关键词超过 {limit} 个。",
    Reason.RULE_PHRASE_LENGTH: "分派规则（routing_rules）第 {number} 条的关键词「{phrase}」应为 {low} 到 {high} 个字。",
    Reason.UNITS_FROM_ANOTHER_CITY: "数据库中的单位来自另一个城市配置文件，城市配置 {file}（{city}）的单位一个也不在其中："
                                    "请把 HOTLINE_CITY_FILE 设为导入这些单位时用的城市文件。",
    Reason.LOCATION_REQUIRED: "请提供位置：经纬度（lat、long）或地址（address_string）。",
    Reason.BAD_COORDINATES: "经纬度不对：纬度应在 -90 到 90 之间，经度应在 -180 到 180 之间，两者都要填写。",
    Reason.BAD_ATTRIBUTE: "附加字段「{code}」的取值不在可选范围内，请查询该服务的定义。",
    Reason.BAD_OPEN311_STATUS: "状态「{value}」不对，应为 open 或 closed（可用逗号分隔）。",
    Reason.BAD_DATETIME: "时间「{value}」看不懂，请用 ISO 8601 格式，例如 2026-12-01T08:00:00+08:00。",
    Reason.PLUS_AS_SPACE: ("时间「{value}」里时区前的加号到达时成了空格：查询参数中的加号须编码为 %2B，"
                           "例如 2026-12-01T08:00:00%2B08:00。"),
    Reason.UNKNOWN_CATEGORY: "派单目录中没有「{value}」这一类，请从目录中选择（三级分类或其编码）。",
    Reason.UNKNOWN_DEADLINE_CLASS: "派单目录中没有「{code}」这个办理时限类别。",
    Reason.CATALOGUE_UNKNOWN_UNIT: "{where}的承办单位「{code}」不是单位列表（units）中的单位 code。",
    Reason.CATALOGUE_UNKNOWN_CLASS: "{where}的办理时限类别「{code}」不在 deadline_classes 中。",
    Reason.CATALOGUE_UNKNOWN_CATEGORY: "{where}不在分类表中：这一层的名称应写作分类表中的「{depth}」。",
    Reason.TAXONOMY_HEADER: "派单目录分类表 {name} 的第一行应为表头 level1,level2,level3，收到「{header}」。",
    Reason.TAXONOMY_COLUMNS: "派单目录分类表 {name} 第 {line} 行应有 {expected} 列，收到 {count} 列。",
    Reason.TAXONOMY_EMPTY_CELL: "派单目录分类表 {name} 第 {line} 行的 {column} 是空的：每行的三级分类都要填写。",
    Reason.NOT_AN_IMAGE: "「{name}」不是图片：只能上传 JPEG、PNG 或 WebP 格式的照片。",
    Reason.IMAGE_TOO_LARGE: "「{name}」太大（{size_mb} MB）：每张图片不能超过 {limit_mb} MB。",
    Reason.IMAGE_UNREADABLE: "「{name}」无法显示：图片已损坏或像素过多，请换一张照片。",
    Reason.TOO_MANY_IMAGES: "图片太多：每件工单最多 {limit} 张，已有 {already} 张，这次又选了 {given} 张。",
    Reason.UNSTORABLE: "{field}含有无法保存的字符（空字符或不成对的 Unicode 代理字符），请删除后重试。",
    Reason.BODY_TOO_LARGE: "请求超过 {limit} 字节。",
    Reason.NOT_JSON: "请求不是有效的 JSON。",
    Reason.NOT_JSON_OBJECT: "请求应为 JSON 对象。",
    Reason.BAD_DATE: "{field}格式应为 YYYY-MM-DD，收到「{value}」。",
    Reason.NO_SUCH_DATE: "{field}「{value}」不存在，请核对月份和日期。",
    Reason.BAD_LEVEL: "{field}应为 1、2 或 3，收到「{value}」。",
    Reason.DATE_OUT_OF_RANGE: "{field}须在 {low} 至 {high} 之间。",
    Reason.PERIOD_REVERSED: "开始日期不能晚于结束日期。",
    Reason.PERIOD_TOO_LONG: "时间段最长 {limit} 天。",
    Reason.BAD_MONTH: "{field}格式应为 YYYY-MM（如 2026-11），收到「{value}」。",
    Reason.TICKET_NOT_FOUND: "未找到该工单，请核对工单号。",
    Reason.LOOKUP_FAILED: "未找到该工单：请核对工单号和查询码。",
    Reason.NO_SUCH_ACTION: "没有「{action}」这个操作。",
    Reason.NO_TRANSFER: "工单「{number}」没有转办记录。",
    Reason.UNIT_NOT_FOUND: "没有代码为「{code}」的单位。",
    Reason.RULE_NOT_FOUND: "没有这条生效中的分派规则（{rule_id}）。",
    Reason.CATALOGUE_ENTRY_NOT_FOUND: "派单目录中没有「{code}」这一类。",
    Reason.CALLBACK_NOT_FOUND: "没有这条待回拨记录（{callback_id}）。",
    Reason.TOKEN_NOT_FOUND: "没有这个接口令牌（{token_id}）。",
    Reason.NOT_FLAGGED: "号码 {phone} 没有被标记。",
    Reason.TABLE_NOT_FOUND: "没有「{name}」这张表。",
    Reason.REPORT_NOT_FOUND: "没有这份报告（或没有这种格式的文件）。",
    Reason.EXTENSION_NOT_FOUND: "没有这条延期申请（{request_id}）。",
    Reason.ACCOUNT_NOT_FOUND: "没有这个账号。",
    Reason.UNIT_RECORD_NOT_FOUND: "没有这个单位。",
    Reason.SERVICE_NOT_FOUND: "没有代码为「{code}」的服务类别。",
    Reason.REQUEST_NOT_FOUND: "没有编号为「{id}」的公开诉求。",
    Reason.FORMAT_NOT_FOUND: "不支持的格式「{value}」，请用 .json 或 .xml。",
    Reason.JURISDICTION_NOT_FOUND: "本接口不服务于辖区「{value}」。",
    Reason.CLIENT_NOT_FOUND: "没有编号为 {client_id} 的 Open311 接入方。",
    Reason.DAY_NOT_SET: "{day} 没有录入的节假日或调休上班，无需删除。",
    Reason.ARTICLE_NOT_FOUND: "没有这篇知识库文章。",
    Reason.TEMPLATE_NOT_FOUND: "没有这条常用语。",
    Reason.HANDOVER_NOT_FOUND: "没有这条交班记录（{handover_id}）。",
    Reason.NOT_FILED_BY_STAFF: "工单「{number}」不是话务员受理的，不在质检范围内。",
    Reason.ATTACHMENT_NOT_FOUND: "没有这个附件。",
    Reason.THUMBNAIL_UNREADABLE: "「{name}」无法生成缩略图（图片可能已损坏），请打开原图查看。",
    Reason.MEDIA_FETCH_NOT_FOUND: "该工单没有这张彩信图片。",
    Reason.TEMPLATE_TITLE_TAKEN: "已有标题为「{title}」的常用语，请换一个标题。",
    Reason.TOO_MANY_TEMPLATES: "常用语最多 {limit} 条，请先删除不再使用的常用语。",
    Reason.NOT_YOUR_PHOTO: "图片「{name}」只能由上传它的本人或督办员、管理员删除。",
    Reason.PHOTO_KEPT: "图片「{name}」不能删除：它所在的工单「{number}」已办结、关闭或并入其他工单。",
    Reason.NOT_YOUR_TEMPLATE: "这条常用语是全市通用的，只有管理员可以修改或删除。",
    Reason.UNKNOWN_FIELD: "不认识的字段 {name}。",
    Reason.LINE_NOT_JSON_OBJECT: "这一行不是一个 JSON 对象（{{\"title\": ..., \"body\": ..., \"unit\": ...}}）。",
    Reason.ARTICLE_CHANGED: "这篇文章已被他人修改（现为第 {version} 版），您看到的是旧内容，本次操作没有保存。",
    Reason.ARTICLE_NOT_OFFERED: "这篇文章未发布或已过有效期，不能引用。",
    Reason.TOO_MANY_DEFLECTIONS: "提交过于频繁，请 {seconds} 秒后再试。",
    Reason.ILLEGAL_TRANSITION: "工单当前状态为「{state}」，不能执行「{action}」。",
    Reason.ROLE_NOT_ALLOWED: "您的角色无权执行此操作。",
    Reason.NOT_YOUR_UNIT: "该工单不在您的单位办理，您无权执行此操作。",
    Reason.NOT_YOUR_ARTICLE: "这篇知识库文章属于其他单位，只有该单位或督办员可以修改。",
    Reason.NO_PART_OF_YOURS: "您的单位在工单「{number}」中没有待办的协办或二次派单任务。",
    Reason.ADMIN_ONLY: "只有管理员可以管理账号和单位。",
    Reason.CHANGED_BY_OTHERS: _STALE,
    Reason.NO_PENDING_EXTENSION: "工单「{number}」没有待审批的延期申请。",
    Reason.EXTENSION_WAITING: "工单「{number}」已有一条延期申请在等待审批。",
    Reason.EXTENSION_DECIDED: "这条延期申请已经审批过了。",
    Reason.EXTENSION_MOOT: "工单「{number}」已办结、退回或转给其他单位，这条延期申请无需再审批。",
    Reason.ALREADY_ESCALATED: "工单「{number}」刚刚已用同样的意见督办过，没有重复督办。",
    Reason.FOLLOW_UP_TOO_SOON: "工单「{number}」{last} 刚记录过一次回访未接通，两次未接通之间至少间隔 {minutes} 分钟，请于 {next} 后再拨打并记录。",
    Reason.ESCALATED_RECENTLY: "工单「{number}」已于 {at} 督办过（共 {count} 次），一小时内再次督办请勾选“确认再次督办”后提交。",
    Reason.DISPUTE_WAITING: "工单「{number}」已有一条改派申请在等待督办人员决定。",
    Reason.NO_PENDING_DISPUTE: "工单「{number}」没有待决定的改派申请。",
    Reason.CALLBACK_DONE: "这条回拨已经处理过了。",
    Reason.CALLBACK_DIALING: "正在回拨这个号码，请等待结果。",
    Reason.HANDOVER_TAKEN: "这次交班已由{by}接班。",
    Reason.OWN_HANDOVER: "这是您自己的交班说明，请由下一班的话务员接班。",
    Reason.HANDOVER_EXPIRED: "这次交班已超过 {hours} 小时无人接班，已过期，不能再接班。",
    Reason.ALREADY_INSPECTED: "工单「{number}」已由{by}质检，每件工单只质检一次。",
    Reason.OWN_TICKET_INSPECTION: "工单「{number}」是您自己受理的，请由其他督办人员质检。",
    Reason.SCORE_MISSING: "请为「{item}」打分（0 到 {points} 分）。",
    Reason.SCORE_OUT_OF_RANGE: "「{item}」最多 {points} 分，得分应在 0 到 {points} 分之间。",
    Reason.PART_NOT_ACCEPTED: "请先签收工单「{number}」，再提交答复。",
    Reason.PARTS_WAITING: "工单「{number}」还有协办单位未答复：{units}。请等待协办答复，或请督办人员同意先行办结。",
    Reason.NO_PARTS_WAITING: "工单「{number}」没有等待答复的协办单位。",
    Reason.OVERRIDE_REQUEST_WAITING: "工单「{number}」已有一条先行办结申请在等待督办人员决定。",
    Reason.MEDIA_FETCH_NOT_GIVEN_UP: "这张彩信图片正在获取或已经取回，无需重新获取。",
    Reason.NO_OVERRIDE_REQUEST: "工单「{number}」没有等待决定的先行办结申请。",
    Reason.FORWARD_OPEN: "工单「{number}」已二次派单给「{unit}」，请等其答复或退回后再二次派单。",
    Reason.TOKEN_MISSING: "需要登录：请在请求头中提供 Authorization: Bearer <令牌>。",
    Reason.TOKEN_INVALID: "令牌无效、已过期或已被撤销，请重新获取令牌。",
    Reason.BAD_CREDENTIALS: "用户名或密码错误。",
    Reason.API_KEY_MISSING: "请提供接入密钥（api_key）。",
    Reason.API_KEY_INVALID: "接入密钥（api_key）无效或已被吊销。",
    Reason.TOO_MANY_INTAKES: "提交过于频繁，请 {seconds} 秒后再试，或拨打 12345。",
    Reason.TOO_MANY_LOOKUPS: "查询失败次数过多，请 {seconds} 秒后再试。",
    Reason.TOO_MANY_LOGINS: "登录尝试过于频繁，请 {seconds} 秒后再试。",
    Reason.ACCOUNT_LOCKED: "该账号登录失败次数过多，已暂时锁定，请 {seconds} 秒后再试；已登录的页面和 API 令牌不受影响。如非本人操作，请联系管理员。",
    Reason.TOO_MANY_DRAFTS: "分类建议刷新过于频繁，已暂停：仍显示上一次的建议，{seconds} 秒后随输入继续更新。",
    Reason.READ_ONLY: "系统数据库当前为只读状态，您的提交未能保存，" + _LATER,
    Reason.DISK_FULL: "系统存储空间已满，您的提交未能保存，" + _LATER,
    Reason.OUT_OF_MEMORY: "系统数据库资源不足，您的提交未能保存，" + _LATER,
    Reason.UNREACHABLE: "系统数据库暂时无法连接，您的提交未能保存，" + _LATER,
}

# For an error raised in the older form with an English sentence: what its kind means.
KINDS_ZH: dict[str, str] = {
    "invalid_input": "{field}填写有误。",
    "not_found": "未找到。",
    "permission_denied": "您的角色或单位无权执行此操作。",
    "conflict": _STALE,
    "unauthorized": REASONS_ZH[Reason.TOKEN_INVALID],
    "rate_limited": "操作过于频繁，请稍后再试。",
    "storage_unavailable": "系统暂时无法保存数据，" + _LATER,
    "illegal_transition": "工单当前状态不允许此操作。",
    "dispatch_error": "操作没有完成。",
}

# The error pages and answers that are not the domain's: a status, a title and a sentence.
HTTP_ZH: dict[int, tuple[str, str]] = {
    400: ("请求有误", "请求的格式不对，请检查后重试。"),
    401: ("需要登录", "请先登录。"),
    403: ("无权访问", "您的账号无权访问此页面。"),
    404: ("页面不存在", "您要找的页面不存在，可能已被移动或地址有误。"),
    405: ("不支持的请求", "此地址不支持这种请求方式。"),
    409: ("操作冲突", _STALE),
    413: ("内容过大", "提交的内容过大。"),
    422: ("填写有误", "提交的内容有误，请检查后重试。"),
    429: ("请求过于频繁", "操作过于频繁，请稍后再试。"),
    500: ("系统出错", "系统内部出错，已记录，我们会尽快处理。请稍后再试，紧急情况请拨打12345。"),
    503: ("暂停服务", "系统暂时无法处理请求，" + _LATER),
}
CSRF_FAILED = "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。"
LOGIN_REQUIRED = HTTP_ZH[401][1]
ROLE_FORBIDDEN = HTTP_ZH[403][1]
# The way back an error page offers (staff to their console, everyone else home), and the
# hotline's name after the number 12345 on the plain page drawn without the site (web/errors.py).
BACK_TO_CONSOLE = "返回工作台"
BACK_HOME = "返回首页"
HOTLINE_NAME = "政务服务便民热线"
# /metrics to an address it does not serve (web/metrics.py): plain text, for whoever set up the scraper.
METRICS_FORBIDDEN = ("403 禁止访问：/metrics 只对 HOTLINE_METRICS_ALLOW 中的地址"
                     "或持有 HOTLINE_METRICS_TOKEN 的请求开放")

# Refusals a page words itself: the operator's screen-pops without an extension chosen
# (web/pages/operator.py), and a units import refused whole, before its problems (admin.py).
NO_AGENT_FOR_POPS = "选择分机后才能接收来电弹屏。"
IMPORT_REFUSED = "导入内容有误，没有做任何修改："
UNITS_FILE_TOO_LARGE = "文件过大"

# A citizen's request joined to an open ticket on the same matter (web/api.py): told that it
# was, never which ticket nor its code, which go by SMS to the phone on file.
REPEAT_JOINED = "您反映的问题已有在办工单，本次反映已并入该工单；工单号和查询码已通过短信发送到登记的手机号码。"

# Open311's discovery document (web/open311.py): who to ask, and how a client gets a key.
OPEN311_CONTACT = "{city} 12345 政务服务便民热线：拨打 12345，或联系热线管理员。"
OPEN311_KEY_SERVICE = "接入密钥（api_key）由热线管理员签发（hotline open311 keys create 名称）；读取无需密钥。"

# The parts of a city file and of its catalogue, as a problem names where it is.
FILE_SECTIONS_ZH = {
    "file": "城市文件", "city": "城市信息（city）", "units": "单位列表（units）", "categories": "类别（categories）",
    "local_categories": "属地类别（local_categories）", "gazetteer": "地名表（gazetteer）",
    "routing_rules": "分派规则（routing_rules）", "catalogue": "派单目录（catalogue）", "catalogue_file": "派单目录文件",
    "deadline_classes": "派单目录的办理时限类别（deadline_classes）", "level1": "派单目录的一级分类（level1）",
    "level2": "派单目录的二级分类（level2）", "level3": "派单目录的三级分类（level3）",
}
# What a value in such a file should be (dispatch/file_checks.py).
VALUE_KINDS_ZH = {
    "object": "对象 {…}", "list": "列表 […]", "text": "文字（加双引号）", "texts": "文字的列表 [\"…\", …]",
    "boolean": "true 或 false", "text_or_null": "文字或 null", "positive_integer": "正整数",
}
# A level of the catalogue's mapping names its category so (catalogue_file.py).
CATALOGUE_KEYS_ZH = {1: "一级分类", 2: "一级分类/二级分类", 3: "一级分类/二级分类/三级分类"}
# Python's json module says what is wrong with a file in English; the usual ones in Chinese.
JSON_PROBLEMS_ZH = {
    "Expecting value": "这里缺少一个值（多了逗号，或值没有写）",
    "Expecting property name enclosed in double quotes": "这里应为加双引号的名称（多了逗号，或名称没有加双引号）",
    "Expecting ',' delimiter": "这里缺少逗号",
    "Expecting ':' delimiter": "这里缺少冒号",
    "Unterminated string starting at": "引号没有配对（文字缺少结尾的双引号）",
    "Invalid control character at": "文字中有换行或制表符（请写作 \\n 或 \\t）",
    "Invalid \\escape": "反斜杠 \\ 的用法不对（路径请写作 / 或 \\\\）",
    "Invalid \\uXXXX escape": "\\u 后应为四位十六进制数",
    "Extra data": "JSON 已经结束，后面还有多余的内容（最外层只能有一个对象）",
}

_CHINESE = re.compile(r"[\u4e00-\u9fff]")
MAX_VALUE_CHARS = 40


def field_label(field: str | None) -> str:
    if not field:
        return ""
    return FIELDS_ZH.get(field, field)


def _http(status: int) -> tuple[str, str]:
    return HTTP_ZH.get(status, HTTP_ZH[500] if status >= 500 else HTTP_ZH[400])


def http_title(status: int) -> str:
    return _http(status)[0]


def http_message(status: int, detail: str | None = None) -> str:
    """Starlette's own answers (404 for an unknown path, 405...) carry English details; a
    detail written in Chinese by our code is kept."""
    if detail and has_chinese(detail):
        return detail
    return _http(status)[1]


def has_chinese(text: str) -> bool:
    return _CHINESE.search(text) is not None


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class _Data(dict):  # type: ignore[type-arg]
    """The error's data as the sentence shows it; a piece of data a raise forgot shows as
    nothing rather than failing the answer (a test checks every raise passes what its words use)."""

    def __missing__(self, key: str) -> str:
        return ""


# What a form that names no unit asks for (Reason.UNIT_REQUIRED's `what`).
UNIT_WANTED_ZH = {"unit": "承办单位（单位代码）", "sub_unit": "二次派单的下级单位"}


def _shown(key: str, value: Any) -> str:
    # Imported here: web.pages imports this module (through web.errors) as it loads.
    from web.pages.labels import action_label, calendar_kind_label, label

    if value is None:
        return ""
    if key == "where":
        return _where(value)
    if key == "should_be":
        return VALUE_KINDS_ZH.get(value, str(value))
    if key == "problem":   # json's words may end with what it found ("Invalid \\escape: 'q'")
        return next((zh for en, zh in JSON_PROBLEMS_ZH.items() if str(value).startswith(en)), str(value))
    if key == "what":
        return UNIT_WANTED_ZH.get(value, str(value))
    if key == "role":   # the role an account would have, as the account forms name it
        from web.pages.labels import ROLES_ZH
        return ROLES_ZH.get(str(value), str(value))
    if key == "depth":
        return CATALOGUE_KEYS_ZH.get(value, str(value))
    if key == "state":
        return label(str(value))
    if key == "action":
        return action_label(str(value))
    if key == "calendar_kind":
        return calendar_kind_label(str(value))
    if key == "states":  # the codes the API takes, with the words people know them by
        return "、".join(f"{label(str(v))}（{v}）" for v in value)
    if key == "state_names":   # a page's: its form offers the words alone
        return "、".join(label(str(v)) for v in value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return "、".join(str(v) for v in value)
    if key in ("known", "path"):   # the choices are the help, a path's end names the file: whole
        return str(value)
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def _where(where: Any) -> str:
    """('categories', '城乡建设', None) -> 类别（categories）「城乡建设」; ('routing_rules', 2, 'unit')
    -> 分派规则（routing_rules）第 2 条的 unit."""
    section, entry, key = (tuple(where) + (None, None, None))[:3]
    text = FILE_SECTIONS_ZH.get(section, str(section))
    if isinstance(entry, int):
        text += f"第 {entry} 条"
    elif entry is not None:
        text += f"「{entry}」"
    return text + (f"的 {key} " if key else "")


def problems_of(exc: DispatchError) -> list[str]:
    """Each mistake of a refused file, in words: a city file's (FileProblems) or its units'
    (UnitImportError, whose problems are sentences already); none for other errors."""
    return [describe(p) if isinstance(p, DispatchError) else str(p) for p in getattr(exc, "problems", ())]


def words(reason: Reason, params: Mapping[str, Any], field: str | None = None) -> str:
    data = _Data({key: _shown(key, value) for key, value in params.items()})
    data["field"] = field_label(field)
    return REASONS_ZH[reason].format_map(data)


def describe(exc: DispatchError) -> str:
    """The sentence a person reads for this error, in Chinese."""
    field = exc.field if isinstance(exc, InvalidInput) else None
    if exc.reason is not None:
        return words(exc.reason, exc.params, field)
    text = exc.text or ""
    if has_chinese(text):  # the older form with a Chinese sentence: as it was written
        return text
    return KINDS_ZH.get(exc.code, KINDS_ZH["dispatch_error"]).format(field=field_label(field))


def describe_at_line(line: int | None, exc: DispatchError) -> str:
    """A problem of one line of a file people bring (a holiday notice, knowledge base lines):
    which line, then the error's words."""
    return (f"第 {line} 行：" if line else "") + describe(exc)


def describe_for_console(exc: DispatchError) -> str:
    """The CLI prints the words and, for whoever reads the logs or files a bug, the code."""
    words_zh, detail = describe(exc), exc.message
    return words_zh if detail == words_zh or not detail else f"{words_zh}（{detail}）"


# ---- The command line's own lines -----------------------------------------------------------
# What `hotline` prints to an administrator at a shell. A line that stops the hotline from
# starting says it in English too, after the Chinese.

def no_account(username: str) -> str:
    """A command naming a staff account that does not exist (hotline users, hotline tokens)."""
    return words(Reason.UNKNOWN_ACCOUNT, {"username": username}, None)


# The database and the processes (web/cli.py).
SCHEMA_NOT_WRITABLE = ("数据库不可写（{reason}），无法升级数据库结构，热线不能启动。"
                       " The database refuses writes ({reason}: {detail}); pending migrations cannot be applied.")
NO_SCHEMA = ("数据库还没有表结构，请先运行 hotline db upgrade。"
             " The database in HOTLINE_DATABASE_URL has no tables yet: run `hotline db upgrade` first.")
SQLITE_ONE_WORKER = ("SQLite 只能单进程运行，--workers 大于 1 需要 PostgreSQL（HOTLINE_DATABASE_URL）。"
                     " SQLite serves one process only: --workers above 1 needs PostgreSQL.")
# A database that refuses writes at start (web/health.py): the hotline starts anyway, not ready.
NOT_WRITABLE_AT_START = "数据库不可写（%s），热线照常启动，但 /readyz 报告未就绪，所有写入返回 503，直到恢复"
DEMO_ONE_WORKER = ("演示模式只能单进程运行，请去掉 --workers 或 --demo。"
                   " --demo runs in one process only: drop --workers or --demo.")

# The demo's history as it is made (`serve --demo`): a line that rewrites itself, then the total.
DEMO_STAGES_ZH = {"tickets": "生成历史工单", "writing": "写入数据库"}
DEMO_PROGRESS = "演示数据：{stage} {done:,}/{total:,}"
DEMO_LOADED = "演示数据：{tickets:,} 件历史工单（{days} 天），{events:,} 条事件，{calls:,} 通来电，用时 {seconds:.1f} 秒"

# The demo's SMS simulator and its port (HOTLINE_SMS_SIM_PORT, else 8020, else any free one).
# How to text the hotline through an SMS stand-in ({url} is the stand-in's).
SMS_SIM_TRY = "curl --data-urlencode From=13800000000 --data-urlencode Body=路灯坏了 {url}/sim/inbound"
SMS_SIM_PORT_UNUSABLE = "HOTLINE_SMS_SIM_PORT={port} 不可用：请设为 1-65535 之间、不同于热线端口 {hotline_port} 的端口号"
SMS_SIM_PORT_BUSY = ("短信模拟器端口 {port} 已被占用（HOTLINE_SMS_SIM_PORT，{error}）："
                     "请换一个端口，或不设置它以自动选择空闲端口")


def sms_sim_port_moved(port: int, free_port: int, *, hotline_own: bool) -> str:
    """The default port was taken (by the hotline itself, or by something else)."""
    taken = "是热线自己的端口" if hotline_own else "已被占用"
    return f"端口 {port} {taken}：短信模拟器改用空闲端口 {free_port}（固定端口请设 HOTLINE_SMS_SIM_PORT）"


# A file an import refuses whole: its name and how many problems (each problem is a line of
# its own, describe_at_line's or the unit import's).
UNITS_NOT_IMPORTED = "{file}：{count} 处错误，没有导入任何单位。"
DAYS_NOT_IMPORTED = "{file}：{count} 处错误，未导入。"
ARTICLES_NOT_IMPORTED = "{file}：{count} 行有错误，未导入任何文章。"

# `units import`: a level 1 of the city's dispatch catalogue whose entries nobody takes.
LEVEL1_WITHOUT_UNIT = ("注意：派单目录一级分类「{level1}」有 {count} 个类别没有承办单位（unit）也不属地，"
                       "这些类别的工单需人工分派。")

# `holidays list` and `holidays import` (the calendar's own words are web/pages/labels.py's).
YEAR_BASIS = "{year} 年：{basis}"
CALENDAR_DAY = "{day}  周{weekday}  {kind}  {name}  ({source})"
FROM_PACKAGE = "数据包"  # a day as the chinesecalendar package has it, set by nobody
DAY_TO_ADD = "将新增 {day} {kind} {name}"  # --dry-run
DAY_ADDED = "新增 {day} {kind} {name}"
DAYS_UNCHANGED = "已录入，跳过 {count} 天"

# `classifier predict`: after the unit a label routes to, when the city's 属地
# categories send it to the township where it happened instead.
OR_LOCAL_TOWNSHIP = "（或属地乡镇/街道）"

# `kb import`: how many articles, and in which state they were stored.
ARTICLES_IMPORTED = "新增 {added} 篇，更新 {updated} 篇，未变 {unchanged} 篇{state}"
AS_DRAFTS = "（草稿，待发布）"
AS_PUBLISHED = "（已发布）"

# `hotline report`'s tables (web/cli_report.py): bilingual, for an administrator at a shell;
# the pages say the same figures in Chinese only (web/pages/labels.py).
REPORT_TICKETS_TITLE = "工单 Tickets received {since} .. {until}"
REPORT_FIGURE, REPORT_VALUE = "指标 figure", "值 value"
REPORT_TICKET_FIGURES = {
    "received": "受理 received", "answered": "直接办结 answered", "transferred": "转办 transferred",
    "transfers": "转办次数 transfers", "accepted_transfers": "签收 accepted transfers",
    "returned_transfers": "退单 returned transfers", "resolved": "办结 resolved",
    "resolved_on_time": "按期办结 resolved on time", "rated": "评价 rated",
    "satisfied_or_partly": "满意+基本满意 satisfied or partly", "followed_up": "回访 followed up",
    "rated_phone": "电话评价 rated by phone", "rated_web": "网站评价 rated on the web",
    "rated_sms": "短信评价 rated by SMS", "handed_over": "即时转 handed over", "invalid": "无效 invalid",
    "merged": "合并 merged", "overdue": "超期 overdue", "transfer_rate": "转办率 transfer rate",
    "successful_transfer_rate": "成功转办率 successful transfer rate", "return_rate": "退单率 return rate",
    "resolution_rate": "办结率 resolution rate", "on_time_rate": "按期办结率 on-time rate",
    "satisfaction_rate": "满意率 satisfaction rate", "follow_up_rate": "回访率 follow-up rate",
    "rating_channels": "评价渠道 rating channels",
}
REPORT_CHANNELS_ZH = {"phone": "电话", "web": "网站", "sms": "短信"}  # in the rating channels' cell
REPORT_UNITS_TITLE, REPORT_UNIT = "承办单位 By unit", "单位 unit"
REPORT_UNIT_COLUMNS = (("received", "转办"), ("return_rate", "退单率"), ("resolution_rate", "办结率"),
                       ("on_time_rate", "按期办结率"), ("satisfaction_rate", "满意率"), ("overdue", "超期"))
REPORT_CATEGORIES_TITLE, REPORT_CATEGORY = "类别 By category", "类别 category"
REPORT_CATEGORY_COLUMNS = (("received", "受理"), ("resolution_rate", "办结率"), ("on_time_rate", "按期办结率"),
                           ("satisfaction_rate", "满意率"), ("overdue", "超期"))
REPORT_NO_CATEGORY = "未分类"
REPORT_CALLS_TITLE = "话务 Calls"
REPORT_CALL_FIGURES = {
    "offered": "呼入 offered", "answered": "接听 answered", "abandoned": "放弃 abandoned",
    "answer_rate": "接通率 answer rate", "abandonment_rate": "放弃率 abandonment rate",
    "asa_seconds": "平均应答 s ASA", "service_level": "服务水平 service level",
    "aht_seconds": "平均通话 s AHT", "short_abandoned": "短时放弃 short abandons",
    "answered_within_15s": "15秒内接听 answered within 15 s", "answer_rate_15s": "15秒接通率 15-second answer rate",
    "service_level_seconds": "服务水平秒数 service level s",
    "answered_within_service_level": "服务水平内接听 answered within it",
}
REPORT_CALL_COLUMNS = {"offered": "呼入", "answered": "接听", "abandoned": "放弃", "answer_rate": "接通率",
                       "abandonment_rate": "放弃率", "asa_seconds": "平均应答秒", "service_level": "服务水平",
                       "aht_seconds": "平均通话秒"}
# The calls by queue and by agent: each table's title and its first column.
REPORT_BY_QUEUE = ("按队列 By queue", "队列 queue")
REPORT_BY_AGENT = ("按坐席 By agent", "坐席 agent")
