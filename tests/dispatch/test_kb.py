"""The knowledge base: versions, publishing, expiry, review flags, import with bad lines,
and a unit writing only its own articles."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from dispatch import catalogue, kb, kb_use, lifecycle
from dispatch.actors import Actor
from dispatch.demo import DEMO_KNOWLEDGE
from dispatch.errors import Conflict, InvalidInput, PermissionDenied
from dispatch.intake import IntakeRequest, intake
from dispatch.kb_search import KbIndexCache
from dispatch.kb_text import shown_reply
from dispatch.models import KbArticle, KbArticleVersion, Notice, StaffActivity, TicketEvent
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import INTERNAL_ANSWER_ZH, Channel, RequestType
from tests.conftest import unit_staff

NOW = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.timezone.utc)
TODAY = dt.date(2026, 12, 3)


def _text(title: str = "社会保障卡丢失怎么补办", body: str = "先挂失，再携带身份证到服务大厅补办。", **more: object) -> kb.ArticleText:
    return kb.parse_text({"title": title, "body": body, "keywords": "社保卡 补办", "public": True, **more})


def _search(session: Session, query: str, **kwargs: object) -> list[int]:
    result = kb_use.search(session, KbIndexCache(), query, now=NOW, **kwargs)  # type: ignore[arg-type]
    return [h.article_id for h in result.hits]


def test_every_edit_is_a_version_and_readers_see_the_published_one_until_the_next_is_published(
        session: Session, units: City, supervisor: Actor) -> None:
    hr = unit_staff(session, "human-resources")
    article = kb.create(session, unit_by_code(session, "human-resources"), _text(), hr, now=NOW)
    assert article.state == "draft" and article.version == 1
    assert _search(session, "社保卡补办") == []            # a draft is not offered

    kb.publish(session, article, supervisor, expected_version=1, now=NOW)
    assert _search(session, "社保卡补办") == [article.id]

    kb.edit(session, article, _text(body="现在可在手机上补办社保卡，当场制卡。"), hr, expected_version=1,
            now=NOW + dt.timedelta(hours=1))
    versions = kb.versions(session, article)
    assert [(v.version, v.edited_by) for v in versions] == [(2, hr.label), (1, hr.label)]
    assert versions[0].edited_at == NOW + dt.timedelta(hours=1)
    shown = kb.published_text(session, article)
    assert shown is not None and shown.version == 1 and "服务大厅" in shown.body
    with pytest.raises(Conflict):   # a form showing version 1 cannot publish version 2 unseen
        kb.publish(session, article, supervisor, expected_version=1)
    kb.publish(session, article, supervisor, expected_version=2)
    shown = kb.published_text(session, article)
    assert shown is not None and shown.version == 2 and "手机" in shown.body

    kb.retire(session, article, supervisor)
    assert _search(session, "社保卡补办") == []
    assert session.scalar(select(func.count(KbArticleVersion.id))) == 2   # retiring keeps the versions


def test_an_articles_versions_are_append_only_in_the_database(session: Session, units: City,
                                                              supervisor: Actor) -> None:
    article = kb.create(session, unit_by_code(session, "water"), kb.parse_text({"title": "停水", "body": "联系供水企业。"}),
                        supervisor)
    session.commit()
    for statement in ("UPDATE kb_article_versions SET body = 'rewritten' WHERE article_id = :id",
                      "DELETE FROM kb_article_versions WHERE article_id = :id"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement), {"id": article.id})
        session.rollback()
    assert session.scalar(select(KbArticleVersion.body).where(KbArticleVersion.article_id == article.id)) == "联系供水企业。"


def test_only_a_supervisor_publishes(session: Session, units: City, operator: Actor) -> None:
    hr = unit_staff(session, "human-resources")
    article = kb.create(session, unit_by_code(session, "human-resources"), _text(), hr)
    for actor in (hr, operator):
        with pytest.raises(PermissionDenied):
            kb.publish(session, article, actor)
    assert article.state == "draft"


def test_a_unit_edits_only_its_own_articles(session: Session, units: City, supervisor: Actor) -> None:
    hr, housing = unit_staff(session, "human-resources"), unit_staff(session, "housing")
    with pytest.raises(PermissionDenied):
        kb.create(session, unit_by_code(session, "human-resources"), _text(), housing)
    article = kb.create(session, unit_by_code(session, "human-resources"), _text(), hr)
    with pytest.raises(PermissionDenied):
        kb.edit(session, article, _text(body="住建局改写"), housing)
    assert article.version == 1 and "住建局" not in article.body
    kb.edit(session, article, _text(body="编辑部校对后的口径。"), supervisor)  # the centre's editor may
    assert article.version == 2


def test_an_expired_article_is_not_offered_nor_can_it_be_cited(session: Session, units: City, supervisor: Actor,
                                                                rules: object, operator: Actor) -> None:
    hr = unit_staff(session, "human-resources")
    unit = unit_by_code(session, "human-resources")
    current = kb.create(session, unit, _text(valid_until="2026-12-31"), hr)
    expired = kb.create(session, unit, _text(title="社保卡补办（旧规定）", valid_until="2026-11-30"), hr)
    later = kb.create(session, unit, _text(title="社保卡补办（新规定）", valid_from="2027-01-01"), hr)
    for article in (current, expired, later):
        kb.publish(session, article, supervisor)
    assert _search(session, "社保卡补办", limit=10) == [current.id]

    ticket = intake(session, IntakeRequest(channel=Channel.PHONE, body="社保卡丢了怎么补办", phone="13803910004",
                                           request_type=RequestType.CONSULTATION), rules, now=NOW).ticket  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        kb_use.answer_from_article(session, ticket, operator, expired.id, now=NOW)
    event = kb_use.answer_from_article(session, ticket, operator, current.id, now=NOW)
    assert ticket.state == "answered"
    # The citizen reads the answer itself; which article and version is the staff's record.
    assert ticket.reply == "《社会保障卡丢失怎么补办》\n先挂失，再携带身份证到服务大厅补办。"
    assert event.data == {"article_id": current.id, "article_version": 1}


def test_a_long_article_answers_with_its_beginning_and_where_to_read_it(
        session: Session, units: City, supervisor: Actor, rules: object, operator: Actor) -> None:
    hr = unit_staff(session, "human-resources")
    long = kb.create(session, unit_by_code(session, "human-resources"),
                     _text(body="先挂失，再携带身份证到服务大厅补办。" * 1000), hr)   # 18,000 characters
    kb.publish(session, long, supervisor)
    ticket = intake(session, IntakeRequest(channel=Channel.PHONE, body="社保卡丢了怎么补办", phone="13803910006",
                                           request_type=RequestType.CONSULTATION), rules, now=NOW).ticket  # type: ignore[arg-type]
    kb_use.answer_from_article(session, ticket, operator, long.id, note="已告知", now=NOW)
    reply = ticket.reply or ""
    assert ticket.state == "answered" and len(reply) <= lifecycle.MAX_NOTE_CHARS
    assert reply.startswith("《社会保障卡丢失怎么补办》\n先挂失") and f"（全文见知识库 /kb/{long.id}）\n已告知" in reply


def test_internal_articles_are_for_staff_only(session: Session, units: City, supervisor: Actor,
                                             rules: object, operator: Actor) -> None:
    hr = unit_staff(session, "human-resources")
    internal = kb.create(session, unit_by_code(session, "human-resources"),
                         _text(title="社保卡补办内部口径", body="仅限内部：可先口头受理。", public=False), hr)
    kb.publish(session, internal, supervisor)
    assert _search(session, "社保卡补办") == []
    assert _search(session, "社保卡补办", include_internal=True) == [internal.id]
    # Answered from it, the citizen's public reply carries none of its words.
    ticket = intake(session, IntakeRequest(channel=Channel.PHONE, body="社保卡丢了怎么补办", phone="13803910005",
                                           request_type=RequestType.CONSULTATION), rules, now=NOW).ticket  # type: ignore[arg-type]
    event = kb_use.answer_from_article(session, ticket, operator, internal.id, note="请带身份证办理", now=NOW)
    assert ticket.reply == INTERNAL_ANSWER_ZH + "\n请带身份证办理"
    assert "内部" not in (ticket.reply or "") and event.data["article_id"] == internal.id


def test_articles_past_review_are_flagged_to_their_unit_once(session: Session, units: City, supervisor: Actor) -> None:
    hr = unit_staff(session, "human-resources")
    article = kb.create(session, unit_by_code(session, "human-resources"), _text(review_by="2026-11-01"), hr)
    fresh = kb.create(session, unit_by_code(session, "human-resources"), _text(title="新文章", review_by="2027-01-01"), hr)
    for a in (article, fresh):
        kb.publish(session, a, supervisor)
    assert [a.id for a in kb.stale(session, TODAY)] == [article.id]
    assert kb.stale_count(session, TODAY) == 1 and kb.stale_count(session, dt.date(2027, 1, 2)) == 2
    assert kb.flag_stale(session, NOW) == 1
    assert kb.flag_stale(session, NOW) == 0      # told once
    notice = session.scalars(select(Notice)).one()
    assert notice.unit_id == article.unit_id and notice.kind == "kb_review" and article.title in notice.text


def test_an_import_with_bad_lines_names_each_and_stores_nothing(session: Session, units: City) -> None:
    good = json.dumps({"title": "停水怎么办", "body": "联系供水企业。", "keywords": ["停水"], "category": "城乡建设",
                       "unit": "water", "public": True, "valid_until": None, "review_by": "2027-06-30"},
                      ensure_ascii=False)
    lines = [good, "", "{not json", json.dumps({"title": "x", "body": "y", "unit": "nowhere"}),
             json.dumps({"title": "x", "body": "y", "unit": "water", "review_by": "2027-02-30"}),
             json.dumps({"title": "", "body": "y", "unit": "water"}),
             json.dumps({"title": "x", "body": "y", "unit": "water", "public": "maybe"})]
    result = kb.import_lines(session, lines, Actor.system("test"))
    assert [(p.line, p.error.field) for p in result.problems] == [
        (3, "line"), (4, "unit"), (5, "review_by"), (6, "title"), (7, "public")]
    assert session.scalar(select(func.count(KbArticle.id))) == 0

    result = kb.import_lines(session, [good], Actor.system("test"))
    assert (result.added, result.problems) == (1, ())
    again = kb.import_lines(session, [good], Actor.system("test"))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    exported = list(kb.export_lines(session))
    assert json.loads(exported[0]) == {**json.loads(good), "valid_from": None}


def test_an_import_publishes_through_the_activity_log_as_an_editor_does(session: Session, units: City) -> None:
    def line(body: str) -> str:
        return json.dumps({"title": "停水怎么办", "body": body, "unit": "water"}, ensure_ascii=False)

    importer = Actor.system("cli:admin")
    assert kb.import_lines(session, [line("联系供水企业。")], importer).added == 1
    assert kb.import_lines(session, [line("联系供水企业。")], importer).unchanged == 1   # nothing published again
    assert kb.import_lines(session, [line("联系供水企业，或拨打 12345。")], importer).updated == 1
    assert kb.import_lines(session, [line("草稿")], importer, publish_them=False).updated == 1
    article = session.scalar(select(KbArticle))
    published = session.scalars(select(StaffActivity).where(StaffActivity.kind == "kb_published")
                                .order_by(StaffActivity.id)).all()
    assert [(a.actor, a.target, a.detail["version"]) for a in published] == [
        ("cli:admin", f"kb:{article.id}", 1), ("cli:admin", f"kb:{article.id}", 2)]
    assert (article.version, article.published_version) == (3, 2)


def test_a_category_is_read_as_the_dispatch_catalogue_names_it(session: Session, units: City) -> None:
    """A level 1 as it is, an entry by its code (a path is read as its entry); a city's own
    words are kept as given rather than refusing its line."""
    catalogue.seed(session, units)
    gas = catalogue.find_current(session, "城乡建设/城市建设和市政管理/燃气供应")

    def line(title: str, category: str) -> str:
        return json.dumps({"title": title, "body": "联系燃气公司。", "category": category, "unit": "gas"},
                          ensure_ascii=False)

    done = kb.import_lines(session, [line("燃气报修", "城乡建设 > 城市建设和市政管理 > 燃气供应"),
                                     line("燃气缴费", gas.code), line("住房问题", "城乡建设"),
                                     line("供暖时间", "供暖服务")], Actor.system("test"))
    assert done.added == 4 and not done.problems
    kept = dict(session.execute(select(KbArticle.title, KbArticle.category)).all())
    assert kept == {"燃气报修": gas.code, "燃气缴费": gas.code, "住房问题": "城乡建设", "供暖时间": "供暖服务"}


def test_the_demo_articles_import_cleanly_and_answer_plain_questions(session: Session, units: City) -> None:
    lines = DEMO_KNOWLEDGE.read_text(encoding="utf-8").splitlines()
    result = kb.import_lines(session, lines, Actor.system("test"))
    assert result.problems == () and result.added == len(lines) >= 50
    titles = dict(session.execute(select(KbArticle.id, KbArticle.title)).all())
    for question, expected in (("社保卡丢了怎么办", "社会保障卡丢失怎么补办"), ("暖气不热找谁", "暖气不热怎么办"),
                               ("我想注销个体户", "个体户或公司注销怎么办")):
        assert titles[_search(session, question)[0]] == expected


def test_searches_without_a_useful_result_are_the_gaps(session: Session, units: City, supervisor: Actor,
                                                       rules: object, operator: Actor) -> None:
    hr = unit_staff(session, "human-resources")
    article = kb.create(session, unit_by_code(session, "human-resources"), _text(), hr)
    kb.publish(session, article, supervisor)
    cache = KbIndexCache()
    for query in ("社保卡怎么补办", "狗咬人了怎么办", "狗咬人了怎么办"):
        kb_use.search(session, cache, query, source="public", now=NOW)
    for body in ("社保卡丢了怎么补办", "问下公积金"):
        ticket = intake(session, IntakeRequest(channel=Channel.PHONE, body=body, phone="13803910004",
                                               request_type=RequestType.CONSULTATION), rules, now=NOW).ticket  # type: ignore[arg-type]
        if "社保卡" in body:
            kb_use.answer_from_article(session, ticket, operator, article.id, now=NOW)
        else:
            lifecycle.answer(session, ticket, operator, "已告知市民办理地点和所需材料", now=NOW)
    # A duplicate merged into another ticket counts once, in its main ticket, as on the dashboard.
    main = intake(session, IntakeRequest(channel=Channel.WEB, body="小区门口路灯坏了", phone="13803910005"),
                  rules, now=NOW).ticket  # type: ignore[arg-type]
    duplicate = intake(session, IntakeRequest(channel=Channel.WEB, body="小区门口的路灯不亮了", phone="13803910006"),
                       rules, now=NOW).ticket  # type: ignore[arg-type]
    lifecycle.merge(session, duplicate, main, operator, now=NOW)
    from dispatch.reports import Period

    figures = kb_use.figures(session, Period(TODAY, TODAY), today=TODAY)
    assert (figures.received, figures.answered, figures.answered_from_articles, figures.articles_used) == (3, 2, 1, 1)
    assert figures.direct_answer_rate == 2 / 3 and figures.article_answer_rate == 1 / 3
    assert [(g.query, g.searches) for g in figures.gaps] == [("狗咬人了怎么办", 2)]
    assert figures.by_article[0].article_id == article.id and figures.by_article[0].answers == 1
    answer_events = session.scalars(select(TicketEvent).where(TicketEvent.action == "answer")).all()
    assert sorted(bool(e.data) for e in answer_events) == [False, True]


def test_a_big_base_is_rebuilt_behind_the_searches_that_keep_the_previous_index(
        session: Session, units: City, supervisor: Actor) -> None:
    hr = unit_staff(session, "human-resources")
    unit = unit_by_code(session, "human-resources")
    first = kb.create(session, unit, _text(), hr)
    kb.publish(session, first, supervisor)
    cache = KbIndexCache()
    cache.INLINE_REBUILD = 1          # as if the base were big (it has one article)
    index = cache.current(session)    # the first index is built at once
    assert [d.article_id for d in index.docs] == [first.id]

    second = kb.create(session, unit, _text(title="社保卡补办新规定"), hr)
    kb.publish(session, second, supervisor, now=NOW + dt.timedelta(seconds=1))
    session.flush()
    assert cache.current(session) is index     # the search that noticed the change does not wait
    cache.settle()
    assert sorted(d.article_id for d in cache.current(session).docs) == sorted([first.id, second.id])


def test_the_citizens_reply_from_an_article_is_plain_text(session: Session, units: City, supervisor: Actor,
                                                        rules: object, operator: Actor) -> None:
    hr = unit_staff(session, "human-resources")
    body = ("## 先挂失\n社保卡丢失后请**先挂失**，可在 [河南社保](https://hnsi.example.cn/app) 办理。\n\n"
            "- 带*身份证*\n- 到服务大厅\n\n1. 挂失\n2. 补办\n\n*演示内容：以有关部门公布为准。*")
    article = kb.create(session, unit_by_code(session, "human-resources"), _text(body=body), hr)
    kb.publish(session, article, supervisor)
    ticket = intake(session, IntakeRequest(channel=Channel.PHONE, body="社保卡丢了怎么补办", phone="13803910007",
                                           request_type=RequestType.CONSULTATION), rules, now=NOW).ticket  # type: ignore[arg-type]
    kb_use.answer_from_article(session, ticket, operator, article.id, note="已告知", now=NOW)
    assert ticket.reply == ("《社会保障卡丢失怎么补办》\n先挂失\n"
                            "社保卡丢失后请先挂失，可在 河南社保 (https://hnsi.example.cn/app) 办理。\n"
                            "带身份证\n到服务大厅\n1. 挂失\n2. 补办\n演示内容：以有关部门公布为准。\n已告知")
    assert shown_reply(ticket.reply) == ticket.reply   # a plain one reads as stored


def test_a_reply_from_an_article_stored_with_its_markdown_is_shown_plain_and_others_as_written() -> None:
    stored = "《社保卡补办》\n## 先挂失\n请**先挂失**。\n\n- 带*身份证*\n- 到服务大厅\n已告知"
    assert shown_reply(stored) == "《社保卡补办》\n先挂失\n请先挂失。\n带身份证\n到服务大厅\n已告知"
    # A unit's own words keep their lines and marks: only an article's answer had Markdown.
    unit_reply = "已处理：\n- 路灯已更换\n\n**如有问题**请再来电"
    assert shown_reply(unit_reply) == unit_reply
