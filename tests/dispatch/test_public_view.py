"""What a citizen reads of their ticket: a unit's return is work in progress, not a refusal;
a close is a close, whatever led to it."""
from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch import lifecycle, open311, queries
from dispatch.actors import Actor
from dispatch.notifications import Kind, notification_text
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
INTERNAL_WORDS = ("转办", "退单", "派单", "签收", "重办", "重复诉求", "即时转", "在办", "主工单", "作废", "退回")


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
    assert LABELS_ZH["invalid"] == "无效" and action_label("invalidate") == "作废"
    assert PUBLIC_LABELS_ZH["invalid"] == public_action_label("invalidate") == "已关闭（无效诉求）"


UNIT_REPLY = "已修复。如仍有故障请拨打交警值班电话0391-6633110或联系张警官13912345678。"


def test_the_citizen_reads_the_numbers_a_unit_gives_to_call_back_and_the_public_does_not(
        session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session, phone="13812345678", name="王小明", body="我叫王小明，电话13812345678，路灯坏了")
    housing = unit_by_code(session, "housing")
    lifecycle.transfer(session, ticket, housing, operator)
    lifecycle.accept(session, ticket, unit_staff(session, "housing"))
    lifecycle.resolve(session, ticket, unit_staff(session, "housing"),
                      "王小明您好，已致电13812345678。" + UNIT_REPLY)
    session.flush()

    # The citizen's own channels: the text to the phone on file, the lookup with the code.
    sms = notification_text(Kind.RESOLVED, ticket, housing.name)
    view = public_view(session, ticket)
    for citizen_reads in (sms, view["reply"], view["timeline"][-1]["reply"]):
        assert "0391-6633110" in citizen_reads and "13912345678" in citizen_reads, citizen_reads
        # Their own name and number stay masked, as in the rest of the view.
        assert "王小明" not in citizen_reads and "13812345678" not in citizen_reads and "138****5678" in citizen_reads
    assert "王小明" not in view["body"] and "13812345678" not in view["body"]

    # Anyone: the public board and Open311 keep masking the reply.
    (case,) = queries.recently_resolved(session)
    (request,) = open311.service_requests(session, units, open311.RequestQuery(ids=(ticket.number,)))
    for public in (case.reply or "", request["status_notes"]):
        assert "0391-****3110" in public and "139****5678" in public, public
        assert "6633110" not in public and "13912345678" not in public
