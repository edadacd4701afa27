"""The demo city's staff accounts and sample tickets, made through the real intake and lifecycle."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import catalogue, kb, lifecycle
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.demo_history import HistorySize, HistorySummary, Progress, generate
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import StaffUser, Ticket, Unit
from dispatch.staff import actor_for, create_user
from dispatch.units import City, import_units, unit_by_code
from dispatch.vocabulary import Channel, Rating, RequestType, Role

DEMO_PASSWORD = "hotline-demo"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    unit_code: str | None
    display_name: str
    phone_extension: str | None = None


# The operators sit at the phones of the demo's calls (demo_calls.AGENTS), so that the
# supervisor's call figures per agent name them.
DEMO_ACCOUNTS = (
    DemoAccount("admin", Role.ADMIN, None, "系统管理员"),
    DemoAccount("operator", Role.OPERATOR, None, "话务员 王芳", "7001"),
    DemoAccount("supervisor", Role.SUPERVISOR, None, "督办员 李强"),
    DemoAccount("housing", Role.UNIT_STAFF, "housing", "住建局 张伟"),
    DemoAccount("ecology", Role.UNIT_STAFF, "ecology-environment", "生态环境局 刘洋"),
    DemoAccount("hr", Role.UNIT_STAFF, "human-resources", "人社局 陈静"),
    DemoAccount("qinyuan", Role.UNIT_STAFF, "qinyuan", "沁园街道 赵磊"),
    DemoAccount("lina", Role.OPERATOR, None, "话务员 李娜", "7002"),
    DemoAccount("zhangwei", Role.OPERATOR, None, "话务员 张伟", "7003"),
    DemoAccount("sunli", Role.OPERATOR, None, "话务员 孙丽", "7004"),
    DemoAccount("zhoumin", Role.OPERATOR, None, "话务员 周敏", "7005"),
    DemoAccount("wuhao", Role.OPERATOR, None, "话务员 吴浩", "7006"),
    DemoAccount("xuting", Role.OPERATOR, None, "话务员 徐婷", "7007"),
    DemoAccount("majun", Role.OPERATOR, None, "话务员 马骏", "7008"),
)

# (channel, type, title, body, phone, unit code or None, how far it goes)
SAMPLES = (
    (Channel.PHONE, RequestType.COMPLAINT, "小区楼道照明损坏", "沁园街道某小区3号楼楼道灯坏了一个多月，物业一直不修，老人晚上上下楼很危险。", "13803910001", "qinyuan", "resolved"),
    (Channel.SMS, RequestType.COMPLAINT, "工地夜间施工噪音扰民", "济水大街南侧工地每天晚上11点以后还在施工，噪音很大，影响周边居民休息。", "13803910002", "ecology-environment", "in_progress"),
    (Channel.WEB, RequestType.HELP, "农民工工资被拖欠", "我在五龙口镇一个建筑工地干活，老板拖欠三个月工资共一万二千元，请帮忙讨薪。", "13803910003", "human-resources", "transferred"),
    (Channel.PHONE, RequestType.CONSULTATION, "社保卡补办需要什么材料", "请问社保卡丢了在哪里补办，需要带什么材料？", "13803910004", None, "answered"),
    (Channel.WEB, RequestType.COMPLAINT, "道路井盖缺失", "天坛路与黄河大道交叉口东侧人行道井盖缺失，已经有人差点掉下去。", "13803910005", "housing", "returned"),
    (Channel.PHONE, RequestType.SUGGESTION, "建议增加公交班次", "建议增加从市区到王屋镇的公交班次，周末游客多经常坐不上车。", "13803910006", None, "received"),
    (Channel.SMS, RequestType.COMPLAINT, "河道有人倾倒垃圾", "梨林镇附近河道边有人倾倒建筑垃圾，污染环境，请相关部门处理。", "13803910007", "ecology-environment", "closed"),
)


def seed(session: Session, city: City, rules: IntakeRules, *, now: dt.datetime | None = None) -> bool:
    """Load the demo city, its accounts and sample tickets, once. False if already there."""
    import_units(session, city)
    catalogue.seed(session, city, now=now)
    if session.scalar(select(func.count(StaffUser.id))):
        return False
    now = now or utcnow()
    users = {a.username: create_user(session, a.username, DEMO_PASSWORD, a.role, unit_code=a.unit_code,
                                     display_name=a.display_name, phone_extension=a.phone_extension)
             for a in DEMO_ACCOUNTS}
    seed_knowledge(session)
    operator = actor_for(users["operator"])
    unit_actor = {a.unit_code: actor_for(users[a.username]) for a in DEMO_ACCOUNTS if a.unit_code}
    for i, (channel, kind, title, body, phone, unit_code, goal) in enumerate(SAMPLES):
        at = now - dt.timedelta(hours=(len(SAMPLES) - i) * 5)
        ticket = intake(session, IntakeRequest(channel=channel, body=body, title=title, phone=phone,
                                               request_type=kind), rules, now=at).ticket
        _advance(session, ticket, goal, operator, unit_actor, unit_code, at)
    return True


DEMO_KNOWLEDGE = Path(__file__).parent / "cities" / "jiyuan_kb.jsonl"


def seed_knowledge(session: Session) -> int:
    """The demo's knowledge base (about 50 plainly written articles, each marked as demo
    content), published, when the base is empty; how many were added."""
    if kb.count(session):
        return 0
    result = kb.import_lines(session, DEMO_KNOWLEDGE.read_text(encoding="utf-8").splitlines(), Actor.system("demo"))
    if result.problems:  # the shipped file is checked by a test; a broken copy must not pass silently
        raise ValueError(f"demo knowledge line {result.problems[0].line}: {result.problems[0].error}")
    return result.added


def seed_with_history(session: Session, city: City, rules: IntakeRules, size: HistorySize = HistorySize(), *,
                      now: dt.datetime | None = None, progress: Progress | None = None) -> HistorySummary | None:
    """What `hotline serve --demo` loads: the demo as seed() makes it plus weeks of history
    (dispatch/demo_history.py), once; None when the demo was already there."""
    if not seed(session, city, rules, now=now):
        return None
    return generate(session, city, rules, demo_actors(session), size, now=now, progress=progress,
                    agents=demo_agents(session))


def demo_actors(session: Session) -> dict[str, Actor]:
    """The demo's operator and supervisor by role, unit staff by their unit's code."""
    units = dict(session.execute(select(Unit.id, Unit.code)).all())
    actors = {}
    for account in DEMO_ACCOUNTS:
        user = session.scalar(select(StaffUser).where(StaffUser.username == account.username))
        if user is not None:
            actors[units[user.unit_id] if user.unit_id else account.username] = actor_for(user)
    return actors


def demo_agents(session: Session) -> dict[str, Actor]:
    """The demo's operators by the phone extension they answer at (7001 for `operator`): the
    history's phone tickets are filed by the agent who answered the call."""
    users = session.scalars(select(StaffUser).where(StaffUser.phone_extension.is_not(None),
                                                    StaffUser.active.is_(True)))
    return {user.phone_extension: actor_for(user) for user in users if user.phone_extension}


def _advance(session: Session, ticket: Ticket, goal: str, operator: Actor, unit_actor: dict[str | None, Actor],
             unit_code: str | None, at: dt.datetime) -> None:
    step = dt.timedelta(minutes=20)
    if goal == "answered":
        lifecycle.answer(session, ticket, operator, "社保卡补办请携带身份证到就近社保服务网点办理，当场可取。", now=at + step)
        return
    if goal == "received" or unit_code is None:
        return
    unit = unit_by_code(session, unit_code)
    lifecycle.transfer(session, ticket, unit, operator, routing={"source": "demo"}, now=at + step)
    actor = unit_actor.get(unit_code) or Actor.system("demo")
    if goal == "transferred":
        return
    if goal == "returned":
        lifecycle.return_ticket(session, ticket, actor, "井盖属于市政设施，应由城市管理局负责。", now=at + 2 * step)
        return
    lifecycle.accept(session, ticket, actor, now=at + 2 * step)
    if goal == "in_progress":
        return
    lifecycle.resolve(session, ticket, actor, "已联系责任方现场处理完毕，并安排专人回访。", now=at + 3 * step)
    if goal == "closed":
        lifecycle.rate(session, ticket, Rating.SATISFIED, Actor.citizen(ticket.channel), now=at + 4 * step)
