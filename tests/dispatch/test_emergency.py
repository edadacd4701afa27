"""The emergency numbers a request's words point to, as the operator types it."""
from __future__ import annotations

import pytest

from dispatch.emergency import check_direct_answer, emergency_hints, handover_terms
from dispatch.errors import InvalidInput, Reason
from dispatch.vocabulary import EmergencyService, RequestType, Urgency


def _services(text: str) -> list[str]:
    return [hint.service.value for hint in emergency_hints(text)]


def test_a_crash_with_someone_hurt_points_to_the_traffic_police_then_the_ambulance() -> None:
    hints = emergency_hints("济水大街和黄河路交叉口发生车祸，有人受伤倒地，需要救护车")
    assert [h.service for h in hints] == [EmergencyService.TRAFFIC, EmergencyService.AMBULANCE]
    assert hints[0].words == ("车祸",) and hints[1].words == ("受伤", "倒地", "救护车")


def test_fire_and_violence_point_to_119_and_110() -> None:
    assert _services("家里厨房着火了") == ["119"]
    assert _services("楼道里冒烟，好像是火灾") == ["119"]
    assert _services("小区门口有人持刀抢劫") == ["110"]
    assert _services("有人打架，一个人昏迷了") == ["110", "120"]


def test_an_ordinary_request_points_to_none() -> None:
    assert _services("楼上装修噪音太大，每天早上七点就开始电钻") == []
    assert _services("咨询新生儿医保怎么办理，需要什么材料") == []
    assert _services("") == []


def test_a_word_denied_just_before_it_points_to_none() -> None:
    assert _services("家里没有着火，只是邻居在烧烤有点烟味") == []
    assert _services("不是车祸，是车停在路口不走") == []
    assert _services("两车刮蹭，司机未受伤") == []
    assert _services("刚才刮蹭了一下，没人受伤") == []
    assert _services("没有人受伤，也没有发生车祸") == []
    assert _services("楼下并非火灾，是锅炉房排汽") == []


def test_a_denial_elsewhere_in_the_text_does_not_hide_the_word() -> None:
    assert _services("着火了，没有人管") == ["119"]
    assert _services("没有人来，已经着火") == ["119"]
    assert _services("刚才说没有着火，现在着火了") == ["119"]
    assert _services("司机未受伤，但是行人受伤倒地") == ["120"]
    assert _services("无人机撞到楼上着火了") == ["119"]


def test_a_question_is_not_a_denial() -> None:
    assert _services("不知道是不是着火了，楼道全是烟") == ["119"]
    assert _services("路口撞车了，不清楚有没有人受伤") == ["122", "120"]


def test_a_request_handed_over_is_urgent_and_asks_for_help_unless_a_complaint_or_report() -> None:
    assert handover_terms(RequestType.CONSULTATION) == (RequestType.HELP, Urgency.URGENT)
    assert handover_terms(RequestType.PRAISE) == (RequestType.HELP, Urgency.URGENT)
    assert handover_terms(RequestType.REPORT) == (RequestType.REPORT, Urgency.URGENT)


def test_a_direct_answer_of_an_emergency_needs_the_operators_confirmation() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_direct_answer("楼下着火了，冒了很多烟", confirmed=False)
    assert refused.value.reason is Reason.EMERGENCY_NOT_ANSWERED and refused.value.params["numbers"] == ["119"]
    check_direct_answer("楼下着火了，冒了很多烟", confirmed=True)
    check_direct_answer("请问燃气表怎么充值", confirmed=False)
