"""Search by words: the PostgreSQL indexes find exactly what LIKE over every ticket finds,
and the planner uses them."""
from __future__ import annotations

import csv
import datetime as dt
import random
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from dispatch import queries, text_search
from dispatch.intake import IntakeRules
from dispatch.models import Ticket
from dispatch.queries import TicketFilter
from dispatch.reports import Period
from tests.dispatch.helpers import new_ticket
from tests.statements import statements_sent

DATA = Path(__file__).resolve().parents[2] / "classifier" / "data" / "dev.csv"
# 2-character words (most of what people type), 3 to 6 characters, Latin and digits, one
# that is nowhere, and a pair with punctuation (checked by LIKE alone).
WORDS = ["路灯", "噪音", "小区", "物业", "停车", "垃圾", "安全隐患", "噪音扰民", "拖欠工资", "人行道",
         "燕子山安置房", "磁悬浮", "A市", "km", "150", "无此词语", "，请"]


def _like_ids(session: Session, word: str) -> set[int]:
    """What the plain LIKE over every row finds: the rule search must keep."""
    return set(session.scalars(select(Ticket.id).where(or_(
        Ticket.title.contains(word, autoescape=True), Ticket.body.contains(word, autoescape=True)))))


@pytest.fixture
def real_tickets(session: Session, rules: IntakeRules) -> int:
    with DATA.open(encoding="utf-8") as file:
        rows = [row for _, row in zip(range(120), csv.DictReader(file))]
    for row in rows:
        new_ticket(session, rules, body=(row["title"] + "。" + row["body"])[:400])
    session.flush()
    return len(rows)


def test_search_by_words_finds_every_ticket_like_finds(session: Session, real_tickets: int) -> None:
    found_some = 0
    for word in WORDS:
        expected = _like_ids(session, word)
        got = {t.id for t in queries.filtered_tickets(session, TicketFilter(text=word), limit=10_000)}
        assert got == expected, word
        found_some += bool(expected)
    assert found_some >= len(WORDS) - 3   # the set is not vacuous on these texts


def test_search_by_words_over_many_months_finds_what_like_finds(session: Session, rules: IntakeRules) -> None:
    """Tickets received over a year and more, across the index's 30-day buckets (and either side
    of their edges): every search of the staff pages finds, counts and pages what LIKE finds."""
    with DATA.open(encoding="utf-8") as file:
        rows = [row for _, row in zip(range(80), csv.DictReader(file))]
    start = dt.datetime(2025, 1, 1, 23, 30, tzinfo=dt.timezone.utc)
    for i, row in enumerate(rows):
        new_ticket(session, rules, body=(row["title"] + "。" + row["body"])[:400],
                   now=start + dt.timedelta(days=i * 6 + i % 2, minutes=i))
    session.flush()
    checked = 0
    for word in WORDS:
        expected = _like_ids(session, word)
        assert {t.id for t in queries.filtered_tickets(session, TicketFilter(text=word))} == expected, word
        assert {t.id for t in queries.search(session, word, limit=1_000)} == expected, word
        found = queries.staff_tickets(session, text=word, page_size=500)
        assert ({t.id for t in found.tickets}, found.total) == (expected, len(expected)), word
        checked += len(expected) > 1
    assert checked >= 8


def test_the_word_indexes_are_used_on_postgresql(session: Session, real_tickets: int) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite keeps LIKE")
    session.execute(text("ANALYZE tickets"))
    session.execute(text("SET LOCAL enable_seqscan = off"))
    plans = {}
    for word in ("路灯", "安全隐患", "13812345678", "1234567", "20260101"):
        # The matching alone: on a table this small the newest-first index would win the sort.
        span = queries._days_for(session, word, "postgresql")
        statement = queries._filtered(TicketFilter(text=word), None, "postgresql", span=span).order_by(None)
        compiled = statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        plans[word] = "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
    # A window of days is asked of the word index too (by the days it lists), not read by time.
    session.execute(text("SET LOCAL enable_indexscan = off"))
    newest = session.scalar(select(func.max(Ticket.received_at)))
    last = text_search.day_of(newest)
    window = queries.Slice(text_search.day_start(last - 6), None, range(last - 6, last + 2))
    statement = queries._filtered(TicketFilter(text="路灯"), None, "postgresql", window=window).order_by(None)
    compiled = statement.compile(dialect=session.get_bind().dialect)
    plans["window"] = "\n".join(row[0] for row in session.connection().exec_driver_sql(
        f"EXPLAIN {compiled}", compiled.construct_params()))
    assert f"'#{last}'" in plans["window"] and f"'路灯@{text_search.bucket_of(last)}'" in plans["window"]
    for word in ("路灯", "安全隐患", "window"):
        assert text_search.WORDS_INDEX in plans[word], plans[word]
    assert "ix_tickets_phone_received_at" in plans["13812345678"]   # a whole number: the caller's tickets
    assert text_search.PHONE_INDEX in plans["1234567"]                  # a part of one: any phone holding it
    assert text_search.NUMBER_PREFIX_INDEX in plans["20260101"]
    assert "Seq Scan" not in "".join(plans.values())


def test_the_count_stops_at_its_limit_and_says_there_are_more(
        session: Session, rules: IntakeRules, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(3):
        new_ticket(session, rules, body="小区门口路灯不亮已经一周")
    monkeypatch.setattr(queries, "COUNT_LIMIT", 2)   # three tickets stand for a thousand
    found = queries.staff_tickets(session, text="路灯", page_size=1)
    assert (found.total, found.more, found.pages, len(found.tickets)) == (2, True, 2, 1)
    monkeypatch.setattr(queries, "COUNT_LIMIT", 3)
    found = queries.staff_tickets(session, text="路灯", page_size=1)
    assert (found.total, found.more) == (3, False)


def test_a_whole_number_or_phone_is_read_in_one_statement(session: Session, rules: IntakeRules) -> None:
    """A number or phone search reads its few tickets once: never counted window by window
    as words are (the pairs of its digits would look common)."""
    tickets = [new_ticket(session, rules, body="路灯不亮", phone=f"1390000{i:04d}") for i in range(5)]
    session.flush()
    for asked in (tickets[2].number, "139 0000 0003", "+8613900000004"):
        with statements_sent(session.connection()) as sent:
            found = queries.staff_tickets(session, text=asked)
        assert len(found.tickets) == 1 and found.total == 1, asked
        assert len(sent) == 1, (asked, sent)


def test_a_search_of_many_matches_gives_the_pages_the_whole_search_gives(
        session: Session, rules: IntakeRules, monkeypatch: pytest.MonkeyPatch) -> None:
    # Newest first over nine days, ten tickets a day: tickets received at the same minute
    # straddle the windows' edges, and the newest day alone holds more than the count limit.
    start = dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone.utc)
    for i in range(90):
        body = f"第{i}件：" + ("小区路灯不亮" if i % 3 else "楼道堆放杂物")
        new_ticket(session, rules, body=body, phone=f"1390000{i:04d}",
                   now=start + dt.timedelta(days=i // 10, minutes=(i % 10) // 2))
    session.flush()
    monkeypatch.setattr(queries, "COUNT_LIMIT", 4)   # 60 matches stand for many thousands
    wanted = [TicketFilter(text="路灯"), TicketFilter(text="小区路灯", state="received"), TicketFilter(text="0000"),
              TicketFilter(text="路灯", period=Period(dt.date(2026, 3, 2), dt.date(2026, 3, 5)))]
    for asked in wanted:
        pages = {}
        for days in ((1, 3, 7), (2, 5), ()):   # slices of days first; the whole search at once
            monkeypatch.setattr(queries, "NEWEST_DAYS", days)
            found = [queries.staff_tickets(session, wanted=asked, page=n, page_size=3) for n in range(1, 8)]
            pages[days] = [[t.id for t in page.tickets] for page in found]
            assert {(page.total, page.more) for page in found} == {(4, True)}, (asked, days)
        everything = [t.id for t in queries.filtered_tickets(session, asked)]
        assert pages[(1, 3, 7)] == pages[()] == pages[(2, 5)], asked
        assert [i for page in pages[()] for i in page] == everything[:21], asked


def test_a_common_word_is_counted_and_paged_within_its_newest_day(
        session: Session, rules: IntakeRules, monkeypatch: pytest.MonkeyPatch) -> None:
    """More than the count limit on the newest day: nothing older is read. The statements:
    the days (on PostgreSQL with the search's settings), the newest day's matches listed, the
    page read newest first, on any page the count reaches; the last page the count reaches
    asks the same once more for the one row after it (whether a next page follows)."""
    start = dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone.utc)
    for i in range(40):
        new_ticket(session, rules, body=f"第{i}件：小区路灯不亮", now=start + dt.timedelta(days=i // 10, minutes=i))
    session.flush()
    monkeypatch.setattr(queries, "COUNT_LIMIT", 4)
    for page, numbers in ((1, ["第39件", "第38件"]), (2, ["第37件", "第36件"])):
        with statements_sent(session.connection()) as sent:
            found = queries.staff_tickets(session, text="路灯", page=page, page_size=2)
        assert (found.total, found.more, found.pages) == (4, True, 2)
        assert [t.body[:4] for t in found.tickets] == numbers
        assert len(sent) == (3 if page == 1 else 6), sent
        assert found.next_page == page + 1   # the 5th and later follow past the count


def test_a_rare_word_is_counted_among_every_ticket(
        session: Session, rules: IntakeRules, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer matches than the count limit in every window: the count is every ticket's."""
    start = dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone.utc)
    for i in range(12):
        new_ticket(session, rules, body=f"第{i}件：" + ("水管破裂" if i % 4 == 0 else "路灯不亮"),
                   now=start + dt.timedelta(days=i))
    session.flush()
    monkeypatch.setattr(queries, "NEWEST_DAYS", (1, 3))
    found = queries.staff_tickets(session, text="水管破裂", page_size=2)
    assert (found.total, found.more, found.pages) == (3, False, 2)
    assert [t.body[:3] for t in found.tickets] == ["第8件", "第4件"]
    assert [t.body[:3] for t in queries.staff_tickets(session, text="水管破裂", page=2, page_size=2).tickets] == ["第0件"]


def test_a_rare_word_is_listed_once_a_slice_and_its_pages_are_read_by_id(
        session: Session, rules: IntakeRules, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer matches than the count limit: the newest day's, the 2 days before's and every
    older day's matches are counted, which gives the count, and each sends back only the
    newest of its matches the page may still need; the page comes from those, read by id, as
    the whole search orders them."""
    start = dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone.utc)
    for i in range(30):
        new_ticket(session, rules, body=f"第{i}件：" + ("水管破裂" if i % 3 else "路灯不亮"),
                   now=start + dt.timedelta(hours=8 * i))
    session.flush()
    monkeypatch.setattr(queries, "NEWEST_DAYS", (1, 3))
    everything = [t.id for t in queries.filtered_tickets(session, TicketFilter(text="水管破裂"))]
    assert len(everything) == 20
    listed: list[int] = []
    sent_back: list[int] = []
    original = queries._listed

    def sending(*args, **kwargs):   # type: ignore[no-untyped-def]
        found = original(*args, **kwargs)
        listed.append(found.count)
        sent_back.append(len(found.newest))
        return found
    monkeypatch.setattr(queries, "_listed", sending)
    pages = []
    # What each slice sends back: the page's first row is the 1st, 9th, 17th newest match.
    for n, rows in ((1, [1, 4, 3]), (2, [1, 4, 11]), (3, [1, 4, 15])):
        listed.clear()
        sent_back.clear()
        with statements_sent(session.connection()) as sent:
            found = queries.staff_tickets(session, text="水管破裂", page=n, page_size=8)
        assert (found.total, found.more, found.pages) == (20, False, 3)
        assert listed == [1, 4, 15], listed   # the newest day, the 2 before, every older day
        assert sent_back == rows, (n, sent_back)
        assert "tickets.id IN" in sent[-1], sent[-1]
        pages.append([t.id for t in found.tickets])
    assert pages == [everything[:8], everything[8:16], everything[16:]]


def test_past_its_newest_days_a_search_is_sliced_at_the_word_index_s_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The newest day, the 2 before, the rest of the newest 30-day bucket, the bucket before it,
    then every older day: no bucket's list is gone through twice past the newest days (the
    slices named by their days as the index reads them, the newest one's up to the day after
    the newest ticket's)."""
    monkeypatch.setattr(queries, "NEWEST_DAYS", (1, 3))
    monkeypatch.setattr(queries, "NEWEST_BUCKETS", 2)
    bucket = 693 * text_search.BUCKET_DAYS   # its first day

    def cut(first: int, newest: int) -> list[tuple[int, int]]:
        slices = queries._slices(range(first, newest + 2))
        assert [s.since for s in slices[:-1]] == [text_search.day_start(s.days.start) for s in slices[:-1]]
        assert [s.until for s in slices[1:]] == [s.since for s in slices[:-1]] and slices[0].until is None
        return [(s.days.start - bucket, s.days.stop - bucket) for s in slices]
    # four days into a bucket: nothing of it is left past the newest 3 days but its first day
    assert cut(bucket - 150, bucket + 3) == [(3, 5), (1, 3), (0, 1), (-30, 0), (-150, -30)]
    assert cut(bucket - 150, bucket + 2) == [(2, 4), (0, 2), (-30, 0), (-60, -30), (-150, -60)]
    assert cut(bucket - 150, bucket + 25) == [(25, 27), (23, 25), (0, 23), (-30, 0), (-150, -30)]
    # a short history: the slices that would reach the oldest day are left to the last
    assert cut(bucket - 10, bucket + 25) == [(25, 27), (23, 25), (0, 23), (-10, 0)]
    assert cut(bucket + 20, bucket + 25) == [(25, 27), (23, 25), (20, 23)]
    assert cut(bucket + 25, bucket + 25) == [(25, 27)]


def test_a_rare_word_lists_every_older_day_at_once(
        session: Session, rules: IntakeRules, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a word's matches so far, as many a day on every day searched, stay well under the
    count limit, every older day's are listed by one statement; a commoner word goes on slice
    by slice. Both give the pages the whole search gives."""
    start = dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone.utc)
    for i in range(120):   # 30 days, four tickets a day; a rare word every third day, a common one on each ticket
        body = f"第{i}件：小区门口" + ("水管破裂" if i % 12 == 0 else "路灯不亮")
        new_ticket(session, rules, body=body, now=start + dt.timedelta(hours=6 * i))
    session.flush()
    # 1 to 31 March: the newest day, the 2 before, the rest of the 30-day bucket from 8 March,
    # then the older days (the bucket before holds the oldest ticket's day)
    monkeypatch.setattr(queries, "NEWEST_DAYS", (1, 3))
    monkeypatch.setattr(queries, "NEWEST_BUCKETS", 2)
    monkeypatch.setattr(queries, "COUNT_LIMIT", 115)
    listed: list[int] = []
    original = queries._listed

    def listing(*args, **kwargs):   # type: ignore[no-untyped-def]
        found = original(*args, **kwargs)
        listed.append(found.count)
        return found
    monkeypatch.setattr(queries, "_listed", listing)
    for word, share, counts in (("水管破裂", 0.5, [0, 0, 10]), ("水管破裂", 0.0, [0, 0, 7, 3]),
                                ("门口", 0.5, [1, 8, 84, 23])):
        monkeypatch.setattr(queries, "RARE_SHARE", share)
        everything = [t.id for t in queries.filtered_tickets(session, TicketFilter(text=word))]
        pages = []
        for page in (1, 2, 3):
            listed.clear()
            found = queries.staff_tickets(session, text=word, page=page, page_size=4)
            assert (found.total, listed) == (min(len(everything), 115), counts), (word, share)
            pages.extend(t.id for t in found.tickets)
        assert pages == everything[:12], (word, share)


def test_a_brief_page_of_words_comes_with_the_listings(session: Session, rules: IntakeRules) -> None:
    """Asked `brief` (the search page), the rows a page shows come with the slices' listings:
    the same tickets, in the same order, with no statement of their own."""
    start = dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone.utc)
    for i in range(30):
        new_ticket(session, rules, body=f"第{i}件：" + ("水管破裂" if i % 3 else "路灯不亮"), now=start + dt.timedelta(hours=8 * i))
    session.flush()
    for page in (1, 2, 3):
        whole = queries.staff_tickets(session, text="水管破裂", page=page, page_size=8)
        with statements_sent(session.connection()) as sent:
            brief = queries.staff_tickets(session, text="水管破裂", page=page, page_size=8, brief=True)
        assert (brief.total, brief.pages) == (whole.total, whole.pages) == (20, 3)
        assert [(r.id, r.number, r.title, r.state, r.received_at) for r in brief.tickets] == \
            [(t.id, t.number, t.title, t.state, t.received_at) for t in whole.tickets]
        assert not any("tickets.id IN" in statement for statement in sent), sent


def test_the_pair_index_holds_every_pattern_a_text_holds(session: Session) -> None:
    """No false negative whatever the characters: quotes, backslashes, the separator, spaces,
    newlines and tsquery operators in the text or the pattern."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite keeps LIKE")
    alphabet = "路灯小区ab1 \n'\\:&|!*()<->%_\x01\t　@#"
    picker = random.Random(14)
    checked = 0
    moment = dt.datetime(2026, 3, 7, 23, 59, 59)
    day = text_search.day_of(moment)
    for _ in range(300):
        title = "".join(picker.choice(alphabet) for _ in range(picker.randint(0, 6)))
        body = "".join(picker.choice(alphabet) for _ in range(picker.randint(0, 12)))
        source = picker.choice([title, body])
        if len(source) < 2:
            continue
        start = picker.randrange(len(source) - 1)
        pattern = source[start:picker.randint(start + 2, len(source))]
        if text_search.SEPARATOR in pattern:
            continue   # served by LIKE alone
        found = session.scalar(text("SELECT ticket_month_words(:title, :body, :at) @@ CAST(:query AS tsquery)"),
                               {"title": title, "body": body, "at": moment,
                                "query": text_search.words_query(pattern, range(day, day + 1), by_day=True)})
        assert found, (title, body, pattern)
        checked += 1
    assert checked > 200

    def holds(pattern: str, at: dt.datetime, days: range, by_day: bool = False) -> bool:
        return bool(session.scalar(text("SELECT ticket_month_words('路灯坏了', '', :at) @@ CAST(:query AS tsquery)"),
                                   {"at": at, "query": text_search.words_query(pattern, days, by_day=by_day)}))
    # And the index is not a mere "true": a pattern whose pairs are not all there is left out,
    # and so is a ticket of another bucket or, asked by day, of another day.
    bucket_days = range(day - day % 30, day - day % 30 + 30)
    assert holds("路灯", moment, bucket_days) and not holds("路灯了", moment, bucket_days)
    assert not holds("路灯", moment, range(bucket_days.stop, bucket_days.stop + 30))
    assert holds("路灯", moment, range(day, day + 1), True) and not holds("路灯", moment, range(day + 1, day + 2), True)
    # The day and its bucket: those of received_at in UTC, as day_of() and bucket_of() reckon
    # them, on either side of midnight and of a bucket's edge (day 20520 begins bucket 684).
    for moment in (dt.datetime(2026, 3, 1, 23, 59, 59), dt.datetime(2026, 3, 2), dt.datetime(2026, 3, 7, 23, 59, 59),
                   dt.datetime(2026, 3, 8), dt.datetime(1970, 1, 31)):
        words = session.scalar(text("SELECT ticket_month_words('路灯', '', :at)::text"), {"at": moment})
        day = text_search.day_of(moment)
        assert f"'#{day}'" in words and words.count("'#") == 1, (moment, words)
        assert f"'路灯@{text_search.bucket_of(day)}'" in words, (moment, words)
        assert set(re.findall(r"@(-?\d+)'", words)) == {str(text_search.bucket_of(day))}, (moment, words)
    assert [text_search.bucket_of(d) for d in (20519, 20520, 0, 29, 30, -1, -30, -31)] == [683, 684, 0, 0, 1, 0, -1, -1]


def test_a_pattern_of_two_characters_is_decided_by_the_word_index_alone(
        session: Session, rules: IntakeRules) -> None:
    """Two characters are one pair: the index holds it exactly where the title or the body
    holds the pattern, whatever the characters around it (the separator, '@', '#', quotes,
    a newline between title and body), so a search by it reads no title or body again."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite keeps LIKE")
    alphabet = "路灯小ab@#'\\ \n\x01"
    picker = random.Random(22)
    moment = dt.datetime(2026, 3, 7, 12)
    day = text_search.day_of(moment)
    patterns = [a + b for a in alphabet for b in alphabet if text_search.exact(a + b)]
    assert len(patterns) == 10 * 10 and not text_search.exact("路灯坏") and not text_search.exact("路")
    for _ in range(60):
        title = "".join(picker.choice(alphabet) for _ in range(picker.randint(0, 5)))
        body = "".join(picker.choice(alphabet) for _ in range(picker.randint(0, 8)))
        found = session.execute(text(
            "SELECT q FROM unnest(CAST(:queries AS text[])) AS q WHERE ticket_month_words(:title, :body, :at) @@ CAST(q AS tsquery)"),
            {"queries": [text_search.words_query(p, range(day, day + 1), by_day=True) for p in patterns],
             "title": title, "body": body, "at": moment}).scalars().all()
        by_index = {p for p in patterns if text_search.words_query(p, range(day, day + 1), by_day=True) in found}
        assert by_index == {p for p in patterns if p in title or p in body}, (title, body)
    # The search asks the index alone for such a word, and LIKE besides for a longer one.
    new_ticket(session, rules, body="路灯坏了", now=moment.replace(tzinfo=dt.timezone.utc))
    session.flush()
    for word, like in (("路灯", False), ("路灯坏", True)):
        with statements_sent(session.connection()) as sent:
            assert queries.staff_tickets(session, text=word).total == 1
        listings = [statement for statement in sent if "ticket_month_words" in statement]
        assert listings and all(("LIKE" in statement) is like for statement in listings), (word, listings)


def test_the_migration_installs_the_word_index_of_text_search() -> None:
    """0036 keeps its own copy of the function and index, so that later changes leave it as it
    ran; while it is the latest, the two must agree."""
    import importlib
    months = importlib.import_module("dispatch.migrations.versions.0036_text_search_months")
    assert months.WORDS_FUNCTION == text_search.WORDS_FUNCTION
    assert months.WORDS_INDEX == text_search.WORDS_INDEX
    assert months.WORDS_INDEX_STATEMENT == text_search.create_statements(concurrently=True)[2]


def test_a_word_over_several_buckets_is_asked_bucket_by_bucket() -> None:
    assert text_search.words_query("路灯", range(20519, 20521)) == "( '路灯@683' ) | ( '路灯@684' )"
    assert text_search.words_query("路灯坏", range(20518, 20521), by_day=True) == (
        "( '灯坏@683' & '路灯@683' & ('#20518' | '#20519') ) | ( '灯坏@684' & '路灯@684' & ('#20520') )")
    # A bucket's every day: the bucket alone (683 holds days 20490 to 20519).
    assert text_search.words_query("路灯", range(20490, 20521), by_day=True) == (
        "( '路灯@683' ) | ( '路灯@684' & ('#20520') )")
    assert text_search.words_query("路灯", range(0)) is None


def test_a_slice_names_a_few_days_to_the_index_and_keeps_more_by_time() -> None:
    # Days no ticket has (before the oldest's, after the day after the newest's) need no
    # naming: 683 holds days 20490 to 20519, and the tickets begin on 20500.
    assert text_search.words_query("路灯", range(20500, 20521), by_day=True, held=range(20500, 20600)) == (
        "( '路灯@683' ) | ( '路灯@684' & ('#20520') )")
    # More days of a bucket than `named` are left to the statement's time bounds.
    assert text_search.words_query("路灯", range(20500, 20521), by_day=True, held=range(20400, 20600), named=7) == (
        "( '路灯@683' ) | ( '路灯@684' & ('#20520') )")
    assert text_search.words_query("路灯", range(20513, 20521), by_day=True, held=range(20400, 20600), named=7) == (
        "( '路灯@683' & ('#20513' | '#20514' | '#20515' | '#20516' | '#20517' | '#20518' | '#20519') ) | "
        "( '路灯@684' & ('#20520') )")


@pytest.fixture
def daily_street_lights(session: Session, rules: IntakeRules) -> None:
    """On PostgreSQL, a ticket a day for 60 days from 1 January 2026, each holding 路灯不亮,
    the table analysed."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite keeps LIKE")
    start = dt.datetime(2026, 1, 1, 8, tzinfo=dt.timezone.utc)
    for i in range(60):
        new_ticket(session, rules, body=f"第{i}件：路灯不亮", now=start + dt.timedelta(days=i))
    session.flush()
    session.execute(text("ANALYZE tickets"))


def _plan(session: Session, statement: Any) -> list[str]:
    """The lines of PostgreSQL's plan of `statement`, with its bound values."""
    compiled = statement.compile(dialect=session.get_bind().dialect)
    return [row[0] for row in session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)]


def test_a_slice_kept_by_time_is_still_read_through_the_word_index(session: Session, daily_street_lights: None) -> None:
    """A listing's time bounds are written so that no index of received_at serves them: the
    planner must not read the slice by time and compute every ticket's words."""
    session.execute(text("SET LOCAL enable_seqscan = off"))
    span = queries._received_days(session)
    first = span.stop - 31   # 20 days, more than a slice names, from 60 days of tickets
    window = queries.Slice(text_search.day_start(first), text_search.day_start(first + 20), range(first, first + 20))
    asked = queries.WordsAsked.of(TicketFilter(text="路灯"), None, "postgresql", span)
    shape, values = asked.within(window)
    assert values["words"].count("'#") < len(window.days) - 7 and shape.since and shape.until, values
    plan = "\n".join(_plan(session, queries._words_statement(shape, listing=True, brief=True).params(
        **values, limit=1001, keep=50)))
    assert text_search.WORDS_INDEX in plan and "received_at" not in plan.split("Filter")[0], plan
    found = queries._listed(session, asked, window, 1001, 50, True)
    assert found.count == 20 and all(window.since <= t.received_at < window.until for t in found.newest)


def test_a_search_with_a_period_is_still_read_through_the_word_index(session: Session, daily_street_lights: None) -> None:
    """A period's bounds, like a slice's, are written so that no index of received_at serves
    them: with an index of received_at to read the period by, the planner may compute every
    ticket's words (a search with a period took a second a statement on ten million tickets)."""
    # Without bitmap scans the word index cannot be read: an index of received_at is then the
    # planner's only way short of reading every ticket, if the bounds let it serve them.
    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(text("SET LOCAL enable_bitmapscan = off"))
    for word in ("路灯", "路灯不亮"):
        wanted = TicketFilter(text=word, period=Period(dt.date(2026, 1, 10), dt.date(2026, 2, 20)))
        span = queries._received_days(session, wanted.period)
        asked = queries.WordsAsked.of(wanted, None, "postgresql", span)
        statements = [queries._filtered(wanted, None, "postgresql", span=span, brief=True).limit(50)]
        for window in queries._slices(span):
            within = asked.within(window)
            assert within is not None
            shape, values = within
            statements.append(queries._words_statement(shape, listing=True, brief=True).params(
                **values, limit=1001, keep=50))
        for statement in statements:
            plan = _plan(session, statement)
            assert not [line for line in plan if "Index Cond" in line and "received_at" in line], plan
        found = queries.staff_tickets(session, wanted=wanted)
        assert found.total == 42 and all(dt.datetime(2026, 1, 9, 16) <= t.received_at.replace(tzinfo=None)
                                          < dt.datetime(2026, 2, 20, 16) for t in found.tickets), word


def test_search_by_random_words_matches_like(session: Session, rules: IntakeRules) -> None:
    """The whole search (index and LIKE) against LIKE alone on random texts and patterns."""
    alphabet = "路灯小区噪音ab1 '\\%_"
    picker = random.Random(41)
    texts = ["".join(picker.choice(alphabet) for _ in range(picker.randint(2, 16))) for _ in range(40)]
    for body in texts:
        new_ticket(session, rules, body=body)
    session.flush()
    for _ in range(40):
        source = picker.choice(texts)
        start = picker.randrange(len(source) - 1)
        word = source[start:start + picker.randint(1, 4)].strip()
        if not word:
            continue
        got = {t.id for t in queries.filtered_tickets(session, TicketFilter(text=word), limit=10_000)}
        assert got == _like_ids(session, word), word
