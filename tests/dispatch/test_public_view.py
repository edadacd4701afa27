"""What a citizen reads of their ticket: a unit's return is work in progress, not a refusal;
a close is a close, whatever led to it."""
from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.public import public_view
from dispatch.units import City, unit_by_code
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from dispatch.notifications import reply_status
from dispatch.public import PUBLIC_ACTIONS
from dispatch.states import State
from dispatch.vocabulary import LABELS_ZH, PUBLIC_LABELS_ZH
from web.pages.labels import action_label, public_action_label

# The hotline's own words, which a citizen does not know.
INTERNAL_WORDS = ("转办", "退单", "派单", "签收", "重办", "重复诉求", "即时转", "在办", "主工单")


def test_a_returned_ticket_reads_as_being_dispatched_again(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
    lifecycle.return_ticket(session, ticket, unit_staff(session, "housing"), "不属于本单位")
    view = public_view(session, ticket)
    assert view["state_label"] == "正在重新安排承办单位"
    assert view["timeline"][-1]["state_label"] == "正在重新安排承办单位"
    assert [public_action_label(e["action"]) for e in view["timeline"]][-1] == "重新安排承办单位"
    assert public_action_label("close") == "已关闭"


def test_a_transferred_ticket_reads_in_plain_words_on_the_page_and_in_the_text(
        session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
    view = public_view(session, ticket)
    assert view["state_label"] == "已交承办单位办理"
    assert [public_action_label(e["action"]) for e in view["timeline"]] == ["受理", "交承办单位办理"]
    assert "：已交承办单位办理" in reply_status(view) and "转办" not in reply_status(view)


def test_no_state_or_step_a_citizen_reads_uses_the_hotlines_own_words() -> None:
    for state in State:
        assert not any(w in PUBLIC_LABELS_ZH[state.value] for w in INTERNAL_WORDS), state
    for action in PUBLIC_ACTIONS:
        assert not any(w in public_action_label(action) for w in INTERNAL_WORDS), action
    assert public_action_label("repeat_contact") == "您再次反映了此事"
    # Staff pages keep the hotline's words.
    assert LABELS_ZH["transferred"] == "已转办" and LABELS_ZH["returned"] == "已退单"
    assert action_label("transfer") == "转办" and action_label("repeat_contact") == "重复诉求"
