"""The 诉求类型 a request's words suggest while the operator types it."""
from __future__ import annotations

from dispatch.request_type_hints import request_type_hint
from dispatch.vocabulary import RequestType


def _type(text: str) -> RequestType | None:
    hint = request_type_hint(text)
    return hint.request_type if hint is not None else None


def test_a_request_that_names_its_type_gets_that_type() -> None:
    assert _type("我要投诉楼下烧烤店") is RequestType.COMPLAINT
    assert _type("我要举报有人往河里偷排污水") is RequestType.REPORT
    assert _type("表扬环卫工人张师傅") is RequestType.PRAISE
    assert _type("请问新生儿医保怎么办理") is RequestType.CONSULTATION
    assert _type("建议在学校门口增设红绿灯") is RequestType.SUGGESTION
    assert _type("老人走失了，请帮忙寻找") is RequestType.HELP


def test_a_complaint_that_never_says_so_is_a_complaint_by_its_words() -> None:
    hint = request_type_hint("楼上装修噪音太大，每天早上七点就开始电钻，严重扰民")
    assert hint is not None and hint.request_type is RequestType.COMPLAINT and hint.words == ("噪音", "扰民")


def test_a_complaint_ending_by_asking_the_departments_to_act_is_no_suggestion() -> None:
    assert _type("小区门口烧烤摊油烟很大，建议有关部门尽快处理") is RequestType.COMPLAINT
    assert _type("路边的共享单车堆了一个月，建议相关部门清理") is None


def test_the_first_cue_said_decides() -> None:
    assert _type("咨询一下怎么投诉物业") is RequestType.CONSULTATION
    assert _type("我要投诉物业，另外建议增设停车位") is RequestType.COMPLAINT


def test_words_that_say_no_type_suggest_none() -> None:
    assert _type("") is None
    assert _type("人民路") is None
