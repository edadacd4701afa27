"""The emergency numbers a request's words point to, as the operator types it."""
from __future__ import annotations

from dispatch.emergency import emergency_hints
from dispatch.vocabulary import EmergencyService


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
