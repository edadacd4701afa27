"""热点: what is flaring up, and where.

Two views of the tickets of a period (China days `since`..`until`):

- rising topics: tickets per topic (the category) x township x day, counted in SQL (the
  township kept on each ticket at intake, dispatch/townships.py), each day's count scored
  against the same cell's own baseline, the `baseline_days` before `since`, as a Poisson upper
  tail, against the baseline days of the day's own kind (working day or rest day):
      expected = (baseline tickets on days of that kind + 0.5) / baseline days of that kind
      p        = P(X >= count | Poisson(expected))
      score    = -log10(p)
  The 0.5 keeps a cell never seen before from expecting nothing: one ticket in a quiet cell
  is not a hotspot, fifteen are. A cell is rising when count >= min_count and score >= min_score.
- 多人反映 clusters: open or recent tickets about the same matter, from any citizen and channel,
  by the similarity of dispatch/similarity.py (character 2-3-gram TF-IDF cosine, plus the same
  bonuses for the same township and the same category), grouped around the ticket with the most
  near neighbours.

hotspots(session, since, until) returns plain data (dicts, lists, numbers): the page, the API
and the scheduled reports show the same thing.
"""
from __future__ import annotations

import datetime as dt
import heapq
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from classifier.features import message_text
from dispatch import gram_index, similarity
from dispatch.clock import api_time, local_day_start
from dispatch.deadlines import WorkCalendar
from dispatch.masking import mask_text
from dispatch.models import Ticket, Unit
from dispatch.states import FINISHED_STATES, State
from dispatch.townships import PLACE_TEXT_CHARS
from dispatch.vocabulary import UnitKind

ALL_PLACES = "*"          # the whole city: a topic rising everywhere at once
NO_PLACE = ""             # no township named or known
REPRESENTATIVE_CHARS = 120


@dataclass(frozen=True)
class HotspotRules:
    """The thresholds (HOTLINE_HOTSPOT_* settings; these defaults are theirs)."""

    baseline_days: int = 28
    min_count: int = 3
    min_score: float = 3.0            # p <= 0.001
    cluster_min_score: float = 0.3    # similarity (with the place and category bonuses) to join
    cluster_min_size: int = 3
    open_days: int = 30               # open tickets received this far back join the clusters
    max_cluster_tickets: int = 5000
    max_rows: int = 50


def poisson_tail(count: int, expected: float) -> float:
    """P(X >= count) for X ~ Poisson(expected), summed from `count` upward in log space (exact
    for the small expectations of a township's day, where 1 - CDF would round to 0)."""
    if count <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    term = math.exp(-expected + count * math.log(expected) - math.lgamma(count + 1))
    total, k = 0.0, count
    while term > 0:
        total += term
        k += 1
        term *= expected / k
        if k > expected and term < total * 1e-16:
            break
    return min(1.0, total)


def score_of(p: float) -> float:
    return 300.0 if p <= 0 else -math.log10(p)


def township_column() -> tuple[Any, Any]:
    """A ticket's township in SQL: the one its words name (tickets.township, found at intake),
    else its unit's code when that unit is a township, else NO_PLACE; with the unit table to
    outer-join on."""
    unit = aliased(Unit, name="township_unit")
    joined = and_(unit.id == Ticket.unit_id, unit.kind == UnitKind.TOWNSHIP.value)
    return func.coalesce(Ticket.township, unit.code, NO_PLACE), (unit, joined)


# Not a matter at all: silent calls, pranks, tests.
_WANTED = Ticket.state != State.INVALID.value


def _ticket_rows(session: Session, start: dt.datetime, end: dt.datetime, *,
                 open_since: dt.datetime | None = None, limit: int | None = None) -> list[Any]:
    """The tickets received in start..end, then those still open received in open_since..start:
    newest first, at most `limit` (counted in SQL: the open ones of a month are tens of thousands
    in a busy city, and their texts were most of the reading). Only what the clusters show."""
    township, (unit, joined) = township_column()
    statement = (select(Ticket.id, Ticket.title,
                        func.substr(Ticket.body, 1, PLACE_TEXT_CHARS).label("body_start"), Ticket.number,
                        Ticket.received_at, Ticket.category, Ticket.state, Ticket.channel, Ticket.phone,
                        Ticket.confidential, township.label("township"))
                 .outerjoin(unit, joined).order_by(Ticket.received_at.desc(), Ticket.id.desc()))
    rows = list(session.execute(statement.where(_WANTED, Ticket.received_at >= start, Ticket.received_at < end)
                                .limit(limit)))
    left = None if limit is None else limit - len(rows)
    if open_since is not None and open_since < start and (left is None or left > 0):
        rows += list(session.execute(statement.where(
            _WANTED, Ticket.received_at >= open_since, Ticket.received_at < start,
            Ticket.state.not_in([s.value for s in FINISHED_STATES])).limit(left)))
    return rows


def _place_names(session: Session) -> dict[str, str]:
    return {code: name for code, name in session.execute(select(Unit.code, Unit.name))}


WORKDAY, REST_DAY, ALL_DAYS = "workday", "rest_day", "all"
# The baseline's days in the SQL's buckets, by kind (a period's days are 0, 1, ...).
_BASELINE_BUCKETS = {WORKDAY: -1, REST_DAY: -2}


def cell_counts(session: Session, since: dt.date, until: dt.date, baseline_days: int, kind_of: Callable[[dt.date], str]
                ) -> tuple[Counter[tuple[str, str, str]], Counter[tuple[str, str, dt.date]]]:
    """Tickets per (category, township, kind of day: WORKDAY or REST_DAY as `kind_of` tells) in
    the `baseline_days` before `since`, and per (category, township, China day) of since..until:
    counted in SQL, one pass over the received_at index; each ticket's day by the China-day
    bounds it falls between, the baseline's days of one kind in a row taken as one bucket."""
    first = since - dt.timedelta(days=baseline_days)
    ends: list[tuple[dt.date, int]] = []    # (the day a bucket ends before, the bucket)
    for k in range(baseline_days):
        day = first + dt.timedelta(days=k)
        bucket = _BASELINE_BUCKETS[kind_of(day)]
        if ends and ends[-1][1] == bucket:
            ends.pop()
        ends.append((day + dt.timedelta(days=1), bucket))
    ends += [(since + dt.timedelta(days=k + 1), k) for k in range((until - since).days + 1)]
    bucket = case(*((Ticket.received_at < local_day_start(end), k) for end, k in ends))
    township, (unit, joined) = township_column()
    tickets = (select(Ticket.category.label("category"), township.label("township"), bucket.label("bucket"))
               .outerjoin(unit, joined)
               .where(_WANTED, Ticket.category.is_not(None), Ticket.category != "",
                      Ticket.received_at >= local_day_start(first),
                      Ticket.received_at < local_day_start(until + dt.timedelta(days=1)))).subquery()
    kinds = {k: kind for kind, k in _BASELINE_BUCKETS.items()}
    baseline: Counter[tuple[str, str, str]] = Counter()
    counts: Counter[tuple[str, str, dt.date]] = Counter()
    for category, place, k, n in session.execute(
            select(tickets.c.category, tickets.c.township, tickets.c.bucket, func.count())
            .group_by(tickets.c.category, tickets.c.township, tickets.c.bucket)):
        if k < 0:
            baseline[category, place, kinds[k]] += n
        else:
            counts[category, place, since + dt.timedelta(days=k)] += n
    return baseline, counts


def rising(session: Session, since: dt.date, until: dt.date, *, rules: HotspotRules = HotspotRules(),
           calendar: WorkCalendar | None = None) -> list[dict[str, Any]]:
    """The (topic, township, day) cells of since..until whose count stands out from their own
    baseline, highest score first, each with the numbers behind its score. The topic is the
    category (level 1): the catalogue's deeper levels would be counted the same way, grouped
    by the entry's level names.

    A day is compared with the baseline days of its own kind, working day or rest day (the
    deadlines' calendar: weekends, holidays, make-up workdays): a city writes in less on rest
    days, and a mean over both would make every Monday rise and no Sunday. A baseline without a
    day of that kind (a short HOTLINE_HOTSPOT_BASELINE_DAYS over a long holiday) says nothing of
    that kind's days: the day is then compared with the whole baseline (`baseline_kind` "all")
    rather than left unscored."""
    calendar = calendar or WorkCalendar()
    calendar.sync(session)
    first = since - dt.timedelta(days=rules.baseline_days)
    kinds = {day: WORKDAY if calendar.is_workday(day) else REST_DAY
             for day in (first + dt.timedelta(days=k) for k in range((until - first).days + 1))}
    by_place, by_place_day = cell_counts(session, since, until, rules.baseline_days, kinds.__getitem__)
    days_of: Counter[str] = Counter(kinds[first + dt.timedelta(days=k)] for k in range(rules.baseline_days))
    days_of[ALL_DAYS] = rules.baseline_days
    baseline: Counter[tuple[tuple[str, ...], str, str]] = Counter()
    counts: Counter[tuple[tuple[str, ...], str, dt.date]] = Counter()
    for (category, place, kind), n in by_place.items():
        for where in (place, ALL_PLACES):
            baseline[(category,), where, kind] += n
            baseline[(category,), where, ALL_DAYS] += n
    for (category, place, day), n in by_place_day.items():
        for where in (place, ALL_PLACES):
            counts[(category,), where, day] += n
    names = _place_names(session)
    # The whole city's row says something only when the tickets are not all in one place.
    busiest: Counter[tuple[tuple[str, ...], dt.date]] = Counter()
    for (topic, place, day), count in counts.items():
        if place != ALL_PLACES:
            busiest[topic, day] = max(busiest[topic, day], count)
    found = []
    for (topic, place, day), count in counts.items():
        if count < rules.min_count or (place == ALL_PLACES and count == busiest[topic, day]):
            continue
        compared = kinds[day] if days_of[kinds[day]] else ALL_DAYS
        before = baseline[topic, place, compared]
        expected = (before + 0.5) / days_of[compared]
        p = poisson_tail(count, expected)
        score = score_of(p)
        if score < rules.min_score:
            continue
        found.append({"day": day.isoformat(), "topic": list(topic), "level": len(topic), "category": topic[0] or None,
                      "township": None if place == ALL_PLACES else place or None,
                      "place": "全市" if place == ALL_PLACES else names.get(place, place) if place else "未注明地点",
                      "count": count, "day_kind": kinds[day], "baseline_kind": compared,
                      "baseline_tickets": before, "baseline_days": days_of[compared],
                      "expected": round(expected, 4), "ratio": round(count / expected, 1),
                      "p_value": p, "score": round(score, 2)})
    found.sort(key=lambda r: (-r["score"], -r["count"], r["day"], r["topic"], r["place"]))
    return found[:rules.max_rows]


def clusters(session: Session, since: dt.date, until: dt.date, *, rules: HotspotRules = HotspotRules(),
             index: gram_index.GramIndex | None = None, pairs: Callable[..., list[dict[int, float]]] | None = None
             ) -> list[dict[str, Any]]:
    """多人反映: tickets of since..until, and tickets still open from the `open_days` before,
    grouped by matter; the largest groups first. `pairs`: how the pairs that join are found
    (near_pairs; bench/assessment.py times near_pairs_one_by_one beside it)."""
    end = local_day_start(until + dt.timedelta(days=1))
    # Newest first, (received_at, id) descending: the period's, then the older open ones.
    rows = _ticket_rows(session, local_day_start(since), end, open_since=end - dt.timedelta(days=rules.open_days),
                        limit=rules.max_cluster_tickets)
    if len(rows) < rules.cluster_min_size:
        return []
    townships = [r.township for r in rows]
    texts = [message_text(r.title, r.body_start or "") for r in rows]
    neighbours = (pairs or near_pairs)(index or similarity.new_index(), texts, townships,
                                       [r.category for r in rows], rules.cluster_min_score)
    names = _place_names(session)
    taken: set[int] = set()
    groups = []
    # The ticket with the most near neighbours not yet grouped is the most typical of its matter:
    # a heap of (-neighbours left, ticket), brought up to date as tickets are taken.
    left = [len(kept) for kept in neighbours]
    heap = [(-n, i) for i, n in enumerate(left) if n + 1 >= rules.cluster_min_size]
    heapq.heapify(heap)
    while heap:
        negative, best = heapq.heappop(heap)
        if best in taken:
            continue
        if -negative != left[best]:
            if left[best] + 1 >= rules.cluster_min_size:
                heapq.heappush(heap, (-left[best], best))
            continue
        members = [best] + sorted((j for j in neighbours[best] if j not in taken),
                                  key=lambda j: -neighbours[best][j])
        taken.update(members)
        members += _joining(neighbours, members, taken)
        for i in members:
            for j in neighbours[i]:
                left[j] -= 1
        groups.append(_cluster(rows, townships, members,
                               {j: neighbours[best][j] for j in members[1:] if j in neighbours[best]}, names))
    groups.sort(key=lambda g: (g["count"], g["last_received"]), reverse=True)
    return groups[:rules.max_rows]


def _codes(values: list[Any], none: Any) -> np.ndarray:
    """Each value as a small integer, equal values alike; `none` (no place, no category) as -1."""
    numbers: dict[Any, int] = {}
    return np.fromiter((-1 if v == none else numbers.setdefault(v, len(numbers)) for v in values),
                       dtype=np.int64, count=len(values))


# A gram in more of the pool's texts than this is "frequent": the pairs sharing only such grams are
# bounded rather than multiplied out (there are millions of them, nearly all far from joining).
FREQUENT_GRAM_TEXTS = 32
# Scores kept to this many decimals: the same text twice scores alike whatever order its cosine
# was summed in, so ties (members listed by score, places by count) fall the same way.
SCORE_DECIMALS = 12


def _part(matrix: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """The entries of `matrix` in the columns where `columns` holds, over those columns only
    (renumbered in order): the fewer columns, the cheaper each transpose."""
    mask = columns[matrix.indices]
    row = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row[mask], minlength=matrix.shape[0]))])
    number = (np.cumsum(columns) - 1).astype(np.int32)
    return sp.csr_matrix((matrix.data[mask], number[matrix.indices[mask]], indptr),
                         shape=(matrix.shape[0], int(number[-1]) + 1 if len(number) else 0))


def _pairs_of_groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j), i < j, of rows with the same code >= 0."""
    order = np.argsort(codes, kind="stable")
    order = order[codes[order] >= 0]
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    rows, cols = [], []
    for group in np.split(order, bounds):
        if len(group) > 1:
            rows.append(np.repeat(group, len(group)))
            cols.append(np.tile(group, len(group)))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    i, j = np.concatenate(rows), np.concatenate(cols)
    return i[i < j], j[i < j]


def _dots(unit: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, chunk: int = 20_000) -> np.ndarray:
    """The cosine of each pair (rows[k], cols[k]): the dot product of their unit rows."""
    out = np.empty(len(rows))
    for start in range(0, len(rows), chunk):
        a, b = unit[rows[start:start + chunk]], unit[cols[start:start + chunk]]
        out[start:start + chunk] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


# The upper triangle of the rare grams' product is computed this many row blocks at a time: each
# pair once rather than twice, and each block's entries filtered while they are few.
PRODUCT_BLOCKS = 8
# A township's texts share many grams: nearly every pair of one is an entry of its product, so
# its blocks are kept to about this many pairs (a city whose tickets name one place is one township).
BLOCK_PAIRS = 2_000_000
# Scoring a listed pair (_dots: its two rows gathered and multiplied) takes about 7 us; a township's
# product about 0.2 us a pair and 1.2 ms of its own. In pairs of a product: 32 and 6,000.
LISTED_PAIR_COST = 32
PRODUCT_COST = 6_000


def _upper_products(matrix: sp.csr_matrix, keep: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
                    blocks: int = PRODUCT_BLOCKS, numbers: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs (i, j), i < j, of rows with a column in common for which keep(i, j, their dot
    product) holds, with that product; rows numbered by `numbers` when given (ascending)."""
    n = matrix.shape[0]
    found_i, found_j, found_dots = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    # The rows from lo on meet the rows of block [lo, hi): 56% of the full product in 8 blocks,
    # each row transposed once.
    edges = np.unique(np.linspace(0, n, blocks + 1).astype(np.int64))
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist()):
        block = (matrix[lo:] @ matrix[lo:hi].T.tocsr()).tocoo()
        j, i = block.row.astype(np.int64) + lo, block.col.astype(np.int64) + lo
        upper = j > i
        i, j, dots = i[upper], j[upper], block.data[upper]
        if numbers is not None:
            i, j = numbers[i], numbers[j]
        kept = keep(i, j, dots)
        found_i.append(i[kept])
        found_j.append(j[kept])
        found_dots.append(dots[kept])
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_dots)


def _multiplied_townships(place: np.ndarray, bound: np.ndarray, floor: float) -> np.ndarray:
    """Per township code, whether its pairs are cheaper multiplied out than bounded and listed:
    whether so many of them have bounds whose product reaches `floor` that scoring those one by
    one costs more than the township's product. Counted without listing the pairs: for each text,
    the township's texts with a bound of at least `floor` over its own."""
    multiplied = np.zeros(int(place.max()) + 1, bool)
    order = np.argsort(place, kind="stable")
    order = order[place[order] >= 0]
    for group in np.split(order, np.flatnonzero(np.diff(place[order])) + 1):
        if len(group) < 2:
            continue
        bounds = np.sort(bound[group])
        with np.errstate(divide="ignore", invalid="ignore"):
            through = len(group) - np.searchsorted(bounds, floor / bounds)
        listed = (int(through.sum()) - np.count_nonzero(bounds * bounds >= floor)) // 2   # each text with itself out
        pairs = len(group) * (len(group) - 1) // 2
        multiplied[place[group[0]]] = listed * LISTED_PAIR_COST > pairs + PRODUCT_COST
    return multiplied


def _township_products(unit: sp.csr_matrix, shared: np.ndarray, place: np.ndarray, multiplied: np.ndarray,
                       keep: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs (i, j), i < j, of each multiplied township for which keep(i, j, cosine) holds,
    with the cosine: the township's rows multiplied out, over the grams `shared` marks."""
    found_i, found_j, found_dots = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    for code in np.flatnonzero(multiplied).tolist():
        group = np.flatnonzero(place == code)
        rows = unit[group]
        # Over the township's own grams: the transposes are then as small as its texts.
        columns = np.zeros(rows.shape[1], bool)
        columns[rows.indices] = True
        i, j, dots = _upper_products(_part(rows, columns & shared), keep, len(group) ** 2 // BLOCK_PAIRS + 1, group)
        found_i.append(i)
        found_j.append(j)
        found_dots.append(dots)
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_dots)


def near_pairs(index: gram_index.GramIndex, texts: list[str], townships: list[str], categories: list[str | None],
               min_score: float, *, multiply_townships: bool = True) -> list[dict[int, float]]:
    """For each ticket, the others whose score with it reaches `min_score` (index -> score): the
    closed-loop similarity (dispatch/similarity.py: TF-IDF cosine of character grams, with the
    IDF of these texts, plus the same-township and same-category bonuses, capped at 1).

    Without multiplying out every pair: a pair's cosine is its dot product over the rare grams
    (those in 2 to FREQUENT_GRAM_TEXTS texts: a sparse product with few entries; a gram of one
    text adds to no pair) plus its dot product over the frequent ones, which is at most the
    product of the two texts' norms over the frequent grams (Cauchy-Schwarz). Only the pairs
    whose rare part plus that bound can reach the pair's own threshold (min_score less the
    bonuses the pair has) are scored, exactly, each pair once; the others cannot join. A
    township whose bounds would let through so many of its pairs that scoring them one by one
    costs more (hundreds of look-alike texts of one place, as on a month's pool) is multiplied
    out instead: its rows' product, exact (multiply_townships=False: never, as before, which
    bench/assessment.py times beside). The same pairs as near_pairs_one_by_one, with cosines
    equal to ~1e-15 (summed in another order). Two texts without a gram in common never join (a
    threshold at or below the two bonuses would otherwise group any two tickets of one township
    and category; the one-by-one path did)."""
    n = len(texts)
    if n == 0:
        return []
    unit = index.unit_rows(texts)
    place = _codes(townships, NO_PLACE)
    category = _codes(categories, None)

    def same_place(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return (place[i] >= 0) & (place[i] == place[j])

    def threshold(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        same_category = (category[i] >= 0) & (category[i] == category[j])
        # The same float operations as the score's, so that a pair on the line is kept alike.
        return (min_score - similarity.SAME_PLACE_BONUS * same_place(i, j)
                - similarity.SAME_CATEGORY_BONUS * same_category)

    texts_with = np.bincount(unit.indices, minlength=unit.shape[1])
    frequent = texts_with > FREQUENT_GRAM_TEXTS
    rare = _part(unit, (texts_with > 1) & ~frequent)
    common_entries = frequent[unit.indices]
    row = np.repeat(np.arange(n), np.diff(unit.indptr))
    bound = np.sqrt(np.bincount(row[common_entries], weights=unit.data[common_entries] ** 2, minlength=n))
    slack = 1e-9   # the bound in floats: never leave out a pair on the line
    floor = min_score - similarity.SAME_PLACE_BONUS - similarity.SAME_CATEGORY_BONUS
    # The townships multiplied out, and each text's own (False without a township).
    multiplied = (_multiplied_townships(place, bound, floor) if multiply_townships and (place >= 0).any()
                  else np.zeros(int(place.max()) + 1, bool))
    in_product = (place >= 0) & np.append(multiplied, False)[place]

    def listed(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return ~(in_product[i] & same_place(i, j))

    def reachable(i: np.ndarray, j: np.ndarray, part: np.ndarray) -> np.ndarray:
        # First against the lowest threshold any pair can have (both bonuses), then each its own.
        reach = part + bound[i] * bound[j] + slack
        kept = np.flatnonzero(reach >= floor)
        kept = kept[reach[kept] >= threshold(i[kept], j[kept])]
        kept = kept[listed(i[kept], j[kept])]
        mask = np.zeros(len(i), bool)
        mask[kept] = True
        return mask

    # Pairs of the townships multiplied out, exactly, with their cosines.
    exact_i, exact_j, exact_cosines = _township_products(
        unit, texts_with > 1, place, multiplied, lambda i, j, dots: dots + slack >= threshold(i, j))
    # Pairs sharing a rare gram.
    i, j, _ = _upper_products(rare, reachable)
    found_i, found_j = [i], [j]
    # Pairs sharing frequent grams only, in one of the other townships (small groups: every pair
    # is looked at).
    i, j = _pairs_of_groups(np.where(in_product, -1, place))
    keep = bound[i] * bound[j] + slack >= threshold(i, j)
    found_i.append(i[keep])
    found_j.append(j[keep])
    # Elsewhere (no place bonus), the two bounds' product must reach min_score - the category bonus:
    # one of the two texts has a bound of at least its square root.
    lowest = max(0.0, min_score - similarity.SAME_CATEGORY_BONUS)
    is_heavy = bound + slack >= np.sqrt(lowest)
    heavy = np.flatnonzero(is_heavy)
    if len(heavy) and bound.max() > 0:
        wide = np.flatnonzero(is_heavy | (bound * bound.max() + slack >= lowest))
        common = _part(unit[wide], frequent)
        block = (common[np.searchsorted(wide, heavy)] @ common.T.tocsr()).tocoo()
        i, j = heavy[block.row], wide[block.col]
        keep = (i != j) & (bound[i] * bound[j] + slack >= threshold(i, j)) & listed(i, j)
        found_i.append(np.minimum(i[keep], j[keep]))
        found_j.append(np.maximum(i[keep], j[keep]))
    pair = np.unique(np.concatenate(found_i) * n + np.concatenate(found_j))
    i, j = pair // n, pair % n
    cosines = np.concatenate([exact_cosines, _dots(unit, i, j)])
    i, j = np.concatenate([exact_i, i]), np.concatenate([exact_j, j])
    near = cosines > 0
    i, j, cosines = i[near], j[near], cosines[near]
    same_category = (category[i] >= 0) & (category[i] == category[j])
    # The same float operations, in the same order, as one pair at a time.
    scores = np.minimum(1.0, cosines + similarity.SAME_PLACE_BONUS * same_place(i, j)
                        + similarity.SAME_CATEGORY_BONUS * same_category)
    kept = scores >= min_score
    i, j, scores = i[kept], j[kept], np.round(scores[kept], SCORE_DECIMALS)
    # Each pair both ways (a product is the same either way round), by row, then column.
    i, j, scores = np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([scores, scores])
    order = np.lexsort((j, i))
    i, j, scores = i[order], j[order], scores[order]
    bounds = np.searchsorted(i, np.arange(n + 1))
    cols, values = j.tolist(), scores.tolist()
    return [dict(zip(cols[a:b], values[a:b])) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]


def near_pairs_one_by_one(index: gram_index.GramIndex, texts: list[str], townships: list[str],
                          categories: list[str | None], min_score: float) -> list[dict[int, float]]:
    """The same as near_pairs, one pair at a time in Python (how it was first written): kept as
    the reference the tests and bench/assessment.py hold near_pairs to."""
    floor = min_score - similarity.SAME_PLACE_BONUS - similarity.SAME_CATEGORY_BONUS
    near = gram_index.pairwise(index, texts, max(floor, 0.0))
    neighbours: list[dict[int, float]] = []
    for i, cosines in enumerate(near):
        kept = {}
        for j, cosine in cosines.items():
            same_place = townships[i] != NO_PLACE and townships[i] == townships[j]
            same_category = categories[i] is not None and categories[i] == categories[j]
            score = min(1.0, cosine + similarity.SAME_PLACE_BONUS * same_place
                        + similarity.SAME_CATEGORY_BONUS * same_category)
            if score >= min_score:
                kept[j] = round(score, SCORE_DECIMALS)
        neighbours.append(kept)
    return neighbours


def _joining(neighbours: list[dict[int, float]], members: list[int], taken: set[int]) -> list[int]:
    """Tickets near at least two of the group's (the same matter in words further from the
    first ticket's): two links, not one, so that a chain of look-alikes does not join."""
    joined: list[int] = []
    while True:
        links: Counter[int] = Counter(j for i in members + joined for j in neighbours[i] if j not in taken)
        new = sorted(j for j, n in links.items() if n >= 2)
        if not new:
            return joined
        joined += new
        taken.update(new)


def _cluster(rows: list[Any], townships: list[str], members: list[int], similarity_to_centre: dict[int, float],
             names: dict[str, str]) -> dict[str, Any]:
    tickets = [rows[i] for i in members]
    # A confidential ticket's words are never the cluster's face.
    face = next((rows[i] for i in members if not rows[i].confidential), None)
    places = Counter(townships[i] for i in members if townships[i] != NO_PLACE)
    phones = {t.phone for t in tickets if t.phone}
    finished = {s.value for s in FINISHED_STATES}
    return {
        "representative": None if face is None else {
            "number": face.number, "title": mask_text(face.title),
            "text": mask_text((face.body_start or "")[:REPRESENTATIVE_CHARS])},
        "count": len(tickets),
        # Citizens: distinct numbers, and each ticket without one (a web form may give none).
        "citizens": len(phones) + sum(1 for t in tickets if not t.phone),
        "channels": dict(Counter(t.channel for t in tickets).most_common()),
        "places": [{"township": code, "name": names.get(code, code), "count": n} for code, n in places.most_common()],
        "categories": dict(Counter(t.category or "" for t in tickets).most_common()),
        "open": sum(1 for t in tickets if t.state not in finished),
        "first_received": api_time(min(t.received_at for t in tickets)),
        "last_received": api_time(max(t.received_at for t in tickets)),
        "mean_similarity": round(sum(similarity_to_centre.values()) / max(1, len(similarity_to_centre)), 3)
        if len(members) > 1 else None,
        "tickets": [{"number": t.number, "received_at": api_time(t.received_at), "state": t.state,
                     "channel": t.channel} for t in sorted(tickets, key=lambda t: (t.received_at, t.number))],
    }


def hotspots(session: Session, since: dt.date, until: dt.date, *, rules: HotspotRules = HotspotRules(),
             index: gram_index.GramIndex | None = None, calendar: WorkCalendar | None = None) -> dict[str, Any]:
    """Rising topics and 多人反映 clusters of China days since..until, as plain data. `index`
    keeps gram counts between calls (the same answers, sooner); `calendar` tells working days
    from rest days (the deadlines' own, with the days set on the holidays page)."""
    return {"period": {"since": since.isoformat(), "until": until.isoformat()},
            "rules": asdict(rules),
            "rising": rising(session, since, until, rules=rules, calendar=calendar),
            "clusters": clusters(session, since, until, rules=rules, index=index)}
