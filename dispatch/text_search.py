"""Search by words on PostgreSQL without reading every ticket.

`title LIKE '%…%' OR body LIKE '%…%'` stays the one rule of what matches, on both databases;
on PostgreSQL one GIN index narrows the rows it is checked on (the LIKE rechecks every
candidate, so the index never changes the result; a pattern of two characters is one pair,
which the index holds exactly where LIKE would find it, so there it is not checked again:
exact()):

- `ticket_month_words(title, body, received_at)`: every pair of neighbouring characters of the
  title and body, each tagged with the ticket's 30-day bucket ('路灯@693', days since 1970-01-01
  UTC divided by 30), and the day the ticket was received ('#20791'), as a tsvector. A text
  holding a pattern holds every pair of the pattern, so any pattern of 2 or more characters
  (路灯, 安全隐患, A3区, 150) is served by the AND of its pairs in each bucket, the buckets ORed;
  the days let a search ask for the matches of its last days only
  (`'路灯@693' & ('#20790' | '#20791')`), which the index answers by going through the word's
  list of that month (路灯: 15,760 in one bucket of ten million tickets) and looking those
  rows' days up, instead of every ticket holding the pair (78,204) or every ticket of those
  days (66,000 a day): it goes through the shortest list a row must be on. A tagged pair or a
  day never looks like another: a day has no '@', a pair is two characters before its '@'.
  The pairs are cut by two regexps and split on a control character (\\x01) straight into an
  array: no text search parser. A 1-character pattern, or one holding \\x01, is checked by
  LIKE alone.
- pg_trgm on the phone (a phone is searched by any part of it), and the ticket number's
  pattern operator class for a number typed by its beginning.

The function is declared STRICT, which keeps the planner from inlining its body (array_remove
is not strict), and costly (COST 100, a hundred LIKEs): inlined, it looked as cheap as a few
regexps, and a newest-first scan that computes the pairs of each row it reads could win over
the index. (COST 10000, nearer its true cost, put the plans' estimates above jit_above_cost:
140 ms of JIT.) Migration 0036 installs these (0015, 0031 and 0035 installed the former
ones); change them only in a new migration. SQLite keeps plain LIKE.
"""
from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy import String, and_, cast, false, func, literal, or_
from sqlalchemy.dialects.postgresql import TSQUERY

from dispatch.models import Ticket

WORDS_INDEX = "ix_tickets_month_words"
PHONE_INDEX = "ix_tickets_phone_trgm"
# Ticket numbers by their beginning (`number LIKE '20260101%'`): the unique index's collation
# (C.UTF-8) cannot serve a prefix LIKE, the pattern operator class can.
NUMBER_PREFIX_INDEX = "ix_tickets_number_prefix"
INDEXES = (WORDS_INDEX, PHONE_INDEX, NUMBER_PREFIX_INDEX)

SEPARATOR = "\x01"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
BUCKET_DAYS = 30
# The pairs at even and at odd offsets, each tagged with its ticket's 30-day bucket and followed
# by the separator, then the day, then split on the separator; a lone last character and empty
# pieces (next to a separator in the text) are left in or removed, neither matters: a pattern is
# looked up by its own tagged pairs only. received_at is UTC without a time zone, so the day and
# its bucket (integer division, as bucket_of) are immutable functions of it.
WORDS_FUNCTION = r"""CREATE OR REPLACE FUNCTION ticket_month_words(title text, body text, received_at timestamp)
    RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100 AS
    $$ SELECT array_to_tsvector(array_remove(string_to_array(
           regexp_replace(x.t, '..', E'\\&@' || x.d / 30 || E'\x01', 'g') || E'\x01' ||
           regexp_replace(substr(x.t, 2), '..', E'\\&@' || x.d / 30 || E'\x01', 'g') || E'\x01#' || x.d, E'\x01'), ''))
       FROM (SELECT title || E'\n' || body AS t, floor(extract(epoch FROM received_at) / 86400)::int AS d) AS x $$"""


def create_statements(*, concurrently: bool = False) -> list[str]:
    how = "CONCURRENTLY IF NOT EXISTS" if concurrently else "IF NOT EXISTS"
    return ["CREATE EXTENSION IF NOT EXISTS pg_trgm", WORDS_FUNCTION,
            f"CREATE INDEX {how} {WORDS_INDEX} ON tickets USING gin (ticket_month_words(title, body, received_at))",
            f"CREATE INDEX {how} {PHONE_INDEX} ON tickets USING gin (phone gin_trgm_ops)",
            f"CREATE INDEX {how} {NUMBER_PREFIX_INDEX} ON tickets (number varchar_pattern_ops)"]


def day_of(moment: dt.datetime) -> int:
    """The day lexeme's number of a time (naive: UTC, as stored): whole days since 1970."""
    return (moment.replace(tzinfo=moment.tzinfo or dt.timezone.utc) - EPOCH).days


def day_start(day: int) -> dt.datetime:
    """The first moment of a day lexeme's day, in UTC."""
    return EPOCH + dt.timedelta(days=day)


def bucket_of(day: int) -> int:
    """The 30-day bucket of a day lexeme's number, as ticket_month_words() computes it (SQL's
    integer division truncates toward zero)."""
    return day // BUCKET_DAYS if day >= 0 else -(-day // BUCKET_DAYS)


def pairs(text: str) -> list[str]:
    """The pairs of neighbouring characters of `text`, as ticket_month_words() cuts a ticket's."""
    return sorted({text[i:i + 2] for i in range(len(text) - 1)})


def _quoted(lexeme: str) -> str:
    # Each lexeme quoted, so no character is a tsquery operator.
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def words_query(text: str, days: range, *, by_day: bool = False, held: range | None = None,
                named: int | None = None) -> str | None:
    """The tsquery text of `text` among the tickets received on `days`: per 30-day bucket the
    AND of its pairs tagged with the bucket ('路灯@693'), and with `by_day` the OR of those days
    in it ('#20790' | '#20791') unless they are all of its days; the buckets ORed. None for no
    day at all. `held`: the days any ticket may have (queries._received_days), so that a bucket
    is whole once `days` hold every one of its days among them. `named`: name a bucket's days
    only if they are this many or fewer, for a caller whose statement keeps the days by time
    as well (queries._words_statement).

    By day, the index goes through the word's list of the bucket (a month of its matches)
    and looks the days up for those rows alone, instead of going through the days' lists
    (every ticket of those days). Each day named costs the index a pass over that day's list
    (66,000 tickets), so many days are kept better by time: the rows of the bucket's other days
    are read and left (on ten million tickets, 20 days of a bucket for 二氧化碳 5.2 ms named,
    1.3 ms by time; for 路灯, whose candidates are many, 18.2 and 17.4 ms)."""
    terms = pairs(text)
    buckets = []
    for bucket, group in itertools.groupby(days, bucket_of):
        query = " & ".join(_quoted(f"{p}@{bucket}") for p in terms)
        in_bucket = list(group)
        first, last = in_bucket[0] - 1, in_bucket[-1] + 1   # the days either side
        whole = ((bucket_of(first) != bucket or (held is not None and first < held.start))
                 and (bucket_of(last) != bucket or (held is not None and last >= held.stop)))
        if by_day and not whole and (named is None or len(in_bucket) <= named):
            # a whole bucket's days would only add lookups
            query += " & (" + " | ".join(f"'#{day}'" for day in in_bucket) + ")"
        buckets.append(query)
    if not buckets:
        return None
    return buckets[0] if len(buckets) == 1 else " | ".join(f"( {q} )" for q in buckets)


def words_match(text: str, dialect: str, *, indexed: bool = True, days: range | None = None,
                by_day: bool = False) -> Any:
    """Tickets whose title or body holds `text`, with the word index's help where it has some
    (not `indexed`: LIKE alone, for a scan of a few thousand rows). `days`: the days whose
    tickets may match, every ticket's from the oldest's to the day after the newest's
    (queries._received_days) or with `by_day` a slice of them, as the index lists them (no
    received_at beside it: the planner could then read the days by time and compute every
    ticket's pairs). The index needs them; without them on PostgreSQL this is an error."""
    if indexed and dialect == "postgresql" and indexable(text):
        if days is None:
            raise ValueError("the word index needs the days searched")
        query = words_query(text, days, by_day=by_day)
        if query is None:
            return false()
        return words_condition(like_pattern(text), literal(query, String()), exact=exact(text))
    return words_condition(like_pattern(text))


def words_condition(like: Any, query: Any = None, *, exact: bool = False) -> Any:
    """words_match's condition from its values, given as values or as bind parameters: `like`
    as like_pattern gives it, `query` as words_query does (None: LIKE alone). `exact`: the
    word index's answer alone (see exact())."""
    holds = or_(Ticket.title.contains(like, escape=LIKE_ESCAPE), Ticket.body.contains(like, escape=LIKE_ESCAPE))
    if query is None:
        return holds
    found = func.ticket_month_words(Ticket.title, Ticket.body, Ticket.received_at).op("@@")(cast(query, TSQUERY))
    return found if exact else and_(found, holds)


def exact(text: str) -> bool:
    """Whether the word index alone tells which tickets hold `text`, so that LIKE need not
    check each of them again (reading the title and body, the body often compressed): a
    pattern of two characters is one pair, and a ticket's words hold that pair exactly when
    its title or body holds the pattern (a longer pattern's pairs may lie apart). Not with a
    newline: the pairs are cut from the title and body joined by one."""
    return len(text) == 2 and indexable(text) and "\n" not in text


LIKE_ESCAPE = "/"


def like_pattern(text: str) -> str:
    """`text` for `LIKE '%' || … || '%' ESCAPE '/'`, its own escape, % and _ escaped (as
    SQLAlchemy's autoescape does it)."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def indexable(text: str) -> bool:
    """Whether the word index can narrow a search for `text` (else LIKE reads every row)."""
    return len(text) >= 2 and SEPARATOR not in text
