"""Small builders shared by the dispatch tests."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import Ticket
from dispatch.vocabulary import Channel, RequestType

_counter = iter(range(10**6))


def new_ticket(session: Session, rules: IntakeRules | None = None, *, body: str | None = None,
               phone: str | None = None, now: dt.datetime | None = None,
               request_type: RequestType = RequestType.COMPLAINT, category: str | None = None,
               name: str | None = None) -> Ticket:
    n = next(_counter)
    request = IntakeRequest(channel=Channel.WEB, body=body or f"第{n}号测试诉求：小区门口路灯不亮。",
                            phone=phone, request_type=request_type, category=category, name=name)
    return intake(session, request, rules or IntakeRules(), now=now).ticket
