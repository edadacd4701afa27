"""A reply to the citizen says what was done: one shorter than the least length is refused
on every path that records one, counted after trimming, and nothing is recorded."""
from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from dispatch import actions, lifecycle
from dispatch.actors import Actor
from dispatch.errors import InvalidInput, Reason
from dispatch.replies import REPLY_MIN_CHARS, check_reply
from dispatch.units import City, unit_by_code
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

TEN = "已更换路灯，现已亮起"   # ten characters exactly


def test_a_reply_is_counted_after_trimming_and_needs_two_characters_by_default() -> None:
    assert REPLY_MIN_CHARS == 2 and len(TEN) == 10
    assert check_reply(f"  {TEN}\n", min_chars=10) == TEN
    assert check_reply(" 已办 ") == "已办"
    with pytest.raises(InvalidInput) as refused:
        check_reply("   好      ")   # 10 characters with the spaces, 1 without
    assert refused.value.reason is Reason.REPLY_TOO_SHORT and refused.value.field == "reply"
    assert refused.value.params == {"limit": 2, "length": 1}
    with pytest.raises(InvalidInput) as refused:
        check_reply("   已修好      ", min_chars=10)
    assert refused.value.params == {"limit": 10, "length": 3}
    assert check_reply("好", min_chars=1) == "好"


def test_a_unit_cannot_resolve_with_a_one_word_reply(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    staff = unit_staff(session, "housing")
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
    lifecycle.accept(session, ticket, staff)
    with pytest.raises(InvalidInput) as refused:
        lifecycle.resolve(session, ticket, staff, "好")
    assert refused.value.params == {"limit": 2, "length": 1}
    assert ticket.state == "in_progress" and ticket.reply is None
    with pytest.raises(InvalidInput):
        lifecycle.resolve(session, ticket, staff, TEN, min_chars=11)
    lifecycle.resolve(session, ticket, staff, f" {TEN} ")
    assert ticket.state == "resolved" and ticket.reply == TEN


def test_an_operator_cannot_answer_at_intake_with_a_one_word_reply(session: Session, units: City,
                                                                    operator: Actor) -> None:
    ticket = new_ticket(session)
    with pytest.raises(InvalidInput) as refused:
        lifecycle.answer(session, ticket, operator, "已告知", min_chars=10)
    assert refused.value.reason is Reason.REPLY_TOO_SHORT and ticket.state == "received"
    lifecycle.answer(session, ticket, operator, "已告知市民办理地点和所需材料", min_chars=10)
    assert ticket.state == "answered"


def test_the_actions_hold_replies_to_the_configured_length(session: Session, units: City, operator: Actor) -> None:
    """The staff API and the ticket page go through actions.perform, with the setting."""
    ticket = new_ticket(session)
    strict = actions.ActionContext(reply_min_chars=20)
    with pytest.raises(InvalidInput) as refused:
        actions.perform(session, operator, ticket.number, "answer", {"reply": TEN}, strict)
    assert refused.value.params == {"limit": 20, "length": 10}
    actions.perform(session, operator, ticket.number, "answer", {"reply": TEN}, actions.ActionContext())
    assert ticket.state == "answered"
