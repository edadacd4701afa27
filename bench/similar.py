"""Similar open tickets: does a citizen's paraphrase find the open ticket it duplicates?

    .venv/bin/python bench/similar.py [--distractors 3000] [--seed 7] [--skip-database]

The pool of open tickets is every original of bench/data/similar_paraphrases.jsonl, every
hand-written near miss (same kind of problem, other place or other matter) and --distractors
dev.csv messages (none from an original's duplicate group). Each hand-written duplicate is a
query; we look for the rank of its original. Methods, all in this run on the same pool:

- ours: dispatch.similarity.rank with the category and the demo city's gazetteer, as the app
  calls it; "ours, text only" without the two bonuses;
- baseline word TF-IDF: rjieba words, unigrams, sublinear TF, cosine;
- baseline exact text: what intake links (dispatch.intake.fingerprint equal), nothing else.

Figures per method: recall@1 and @3 of the original, mean rank, how often the pair's near
miss outranks its original, and the time per query. The pairs are split in two halves by a
seeded shuffle: half A is the only one used to choose settings (threshold), half B reports.
Then similar_open_tickets runs once per query through a real SQLite database built by intake.
"ours" keeps one gram index across its queries, as the app keeps one per process; "ours,
nothing kept" times a fresh index per call (what each call cost before the index).
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import click
import rjieba
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifier.dataset import SHIPPED_DATA  # noqa: E402
from classifier.features import message_text  # noqa: E402
from dispatch import db, similarity  # noqa: E402
from dispatch.intake import TITLE_FROM_BODY, IntakeRequest, IntakeRules, fingerprint, intake  # noqa: E402
from dispatch.routing import Gazetteer  # noqa: E402
from dispatch.units import DEMO_CITY, load_city  # noqa: E402
from dispatch.vocabulary import Channel  # noqa: E402

PAIRS = Path(__file__).resolve().parent / "data" / "similar_paraphrases.jsonl"
NOT_FOUND = 10**6


@dataclass(frozen=True)
class Pair:
    id: str
    source: str
    style: str
    category: str
    original_title: str
    original_body: str
    duplicate: str
    near_miss: str | None
    near_miss_kind: str | None
    original_ref: str | None  # dev.csv id


@dataclass(frozen=True)
class Candidate:
    title: str
    body: str
    category: str | None

    @property
    def text(self) -> str:
        return message_text(self.title, self.body)


@dataclass
class Pool:
    candidates: list[Candidate]
    original: dict[str, int]     # pair id -> candidate index
    near_miss: dict[str, int]


# A scorer: (query text, query category) -> [(candidate index, score)], best first.
Scorer = Callable[[str, str | None], list[tuple[int, float]]]


def derived_title(body: str) -> str:
    """The title intake gives a message that came without one (phone, SMS)."""
    first_line = body.splitlines()[0]
    return first_line[:TITLE_FROM_BODY] + ("…" if len(first_line) > TITLE_FROM_BODY else "")


def as_ticket(body: str, title: str | None = None, category: str | None = None) -> Candidate:
    return Candidate(title or derived_title(body), body, category)


def load_pairs(path: Path, dev: dict[str, dict[str, str]]) -> list[Pair]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        ref = str(row["original_ref"]) if row.get("original_ref") is not None else None
        if ref is not None:  # the original is a real dev.csv message: read it whole from there
            title, body = dev[ref]["title"], dev[ref]["body"]
        else:
            title, body = row["original_title"], row["original_body"]
        pairs.append(Pair(row["id"], row["source"], row["style"], row["category"], title, body,
                          row["duplicate"], row.get("near_miss"), row.get("near_miss_kind"), ref))
    return pairs


def build_pool(pairs: Sequence[Pair], dev: dict[str, dict[str, str]], distractors: int, seed: int) -> Pool:
    candidates: list[Candidate] = []
    original, near_miss = {}, {}
    for pair in pairs:
        original[pair.id] = len(candidates)
        candidates.append(Candidate(pair.original_title, pair.original_body, pair.category))
        if pair.near_miss:
            near_miss[pair.id] = len(candidates)
            # Same category as the original: the harder case, and the likely one.
            candidates.append(as_ticket(pair.near_miss, category=pair.category))
    taken_groups = {dev[p.original_ref]["dup_group"] for p in pairs if p.original_ref}
    others = [row for row in dev.values() if row["dup_group"] not in taken_groups and row["body"]]
    random.Random(seed).shuffle(others)
    candidates += [Candidate(row["title"], row["body"], row["label"]) for row in others[:distractors]]
    return Pool(candidates, original, near_miss)


def ours(pool: Pool, places: similarity.Places | None, with_bonuses: bool = True,
         text_chars: int | None = similarity.TEXT_CHARS, kept: bool = True) -> Scorer:
    """kept: one gram index across the queries, as the app keeps one per process; else a
    fresh one per call (every text counted and the pool assembled again: the cold cost)."""
    texts = [c.text for c in pool.candidates]
    index = similarity.new_index(text_chars)

    def score(query: str, category: str | None) -> list[tuple[int, float]]:
        kept_index = index if kept else similarity.new_index(text_chars)
        if with_bonuses:
            ranked = similarity.rank(query, list(zip(texts, (c.category for c in pool.candidates))),
                                     category=category, places=places, index=kept_index)
        else:
            ranked = similarity.rank(query, [(t, None) for t in texts], index=kept_index)
        return [(i, s) for i, s, *_ in ranked]
    return score


def before(pool: Pool) -> Scorer:
    """The scoring as it was first written: a fitted vocabulary, whole texts, no bonuses."""
    texts = [similarity._clean(c.text) for c in pool.candidates]

    def score(query: str, category: str | None) -> list[tuple[int, float]]:
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True)
        matrix = vectorizer.fit_transform([similarity._clean(query)] + texts)
        cosines = (matrix[1:] @ matrix[0].T).toarray().ravel()
        order = cosines.argsort()[::-1]
        return [(int(i), float(cosines[i])) for i in order]
    return score


def word_tfidf(pool: Pool) -> Scorer:
    """Jieba words, fitted once on the pool (a fixed index: faster than ours by design)."""
    vectorizer = TfidfVectorizer(tokenizer=rjieba.cut, token_pattern=None, lowercase=False, sublinear_tf=True)
    matrix = vectorizer.fit_transform([c.text for c in pool.candidates])

    def score(query: str, category: str | None) -> list[tuple[int, float]]:
        cosines = (matrix @ vectorizer.transform([query]).T).toarray().ravel()
        order = cosines.argsort()[::-1]
        return [(int(i), float(cosines[i])) for i in order]
    return score


def exact_text(pool: Pool) -> Scorer:
    prints: dict[str, list[int]] = {}
    for i, c in enumerate(pool.candidates):
        prints.setdefault(fingerprint(c.body), []).append(i)

    def score(query: str, category: str | None) -> list[tuple[int, float]]:
        return [(i, 1.0) for i in prints.get(fingerprint(query), [])]
    return score


@dataclass
class Outcome:
    pair: Pair
    rank: int                   # of the original, 1-based; NOT_FOUND when absent
    original_score: float
    best_other: float           # best score of any other candidate (the pair with no original)
    near_miss_first: bool | None
    seconds: float


def run(scorer: Scorer, pool: Pool, pairs: Sequence[Pair]) -> list[Outcome]:
    outcomes = []
    for pair in pairs:
        query = as_ticket(pair.duplicate).text
        started = time.perf_counter()
        ranked = scorer(query, pair.category)
        seconds = time.perf_counter() - started
        where = {index: (position, score) for position, (index, score) in enumerate(ranked, 1)}
        rank, original_score = where.get(pool.original[pair.id], (NOT_FOUND, 0.0))
        others = [s for i, s in ranked if i != pool.original[pair.id]]
        near = None
        if pair.id in pool.near_miss:
            near = where.get(pool.near_miss[pair.id], (NOT_FOUND, 0.0))[0] < rank
        outcomes.append(Outcome(pair, rank, original_score, max(others, default=0.0), near, seconds))
    return outcomes


def summary(outcomes: Sequence[Outcome]) -> str:
    n = len(outcomes)
    at1 = sum(o.rank == 1 for o in outcomes) / n
    at3 = sum(o.rank <= 3 for o in outcomes) / n
    found = [o.rank for o in outcomes if o.rank != NOT_FOUND]
    mean_rank = f"{statistics.mean(found):7.1f}" if len(found) == n else f"{'-':>7}"
    nears = [o.near_miss_first for o in outcomes if o.near_miss_first is not None]
    confusion = sum(nears) / len(nears) if nears else 0.0
    return f"{at1:6.3f} {at3:6.3f} {mean_rank} {sum(nears):3d}/{len(nears):<3d} {confusion:5.3f}"


def timing(outcomes: Sequence[Outcome]) -> str:
    ms = sorted(o.seconds * 1000 for o in outcomes)
    cuts = statistics.quantiles(ms, n=20)
    return f"p50 {statistics.median(ms):7.2f} ms  p95 {cuts[18]:7.2f} ms"


def shown(outcomes: Sequence[Outcome], threshold: float, limit: int = 5) -> tuple[float, float]:
    """At this min_score: share of queries whose original is suggested (in the first `limit`,
    score at or above it), and share that would get a suggestion were the original not open
    (the best other candidate at or above it): a false alarm."""
    hit = sum(o.rank <= limit and o.original_score >= threshold for o in outcomes) / len(outcomes)
    false = sum(o.best_other >= threshold for o in outcomes) / len(outcomes)
    return hit, false


def tune_threshold(outcomes: Sequence[Outcome]) -> float:
    """The min_score that maximises hits minus false alarms (ties: the lower)."""
    grid = [round(0.05 + 0.01 * k, 2) for k in range(56)]
    return max(grid, key=lambda t: (round(shown(outcomes, t)[0] - shown(outcomes, t)[1], 6), -t))


def halves(pairs: Sequence[Pair], seed: int) -> tuple[set[str], set[str]]:
    ids = sorted(p.id for p in pairs)
    random.Random(seed).shuffle(ids)
    return set(ids[: len(ids) // 2]), set(ids[len(ids) // 2 :])


def end_to_end(pool: Pool, pairs: Sequence[Pair], places: similarity.Places) -> None:
    """Every pool message through intake into a SQLite file, then similar_open_tickets per query."""
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'similar.db'}"
        db.recreate_schema(url)
        engine = db.make_engine(url)
        sessions = db.make_sessionmaker(engine)
        rules = IntakeRules(max_body_chars=20_000)
        numbers: list[str] = []
        started = time.perf_counter()
        with sessions.begin() as session:
            for k, c in enumerate(pool.candidates):
                at = now - dt.timedelta(minutes=len(pool.candidates) - k)
                ticket = intake(session, IntakeRequest(channel=Channel.WEB, title=c.title, body=c.body,
                                                       category=c.category), rules, now=at).ticket
                numbers.append(ticket.number)
        click.echo(f"  {len(numbers)} tickets through intake in {time.perf_counter() - started:.1f} s")
        ranks, seconds, agree = [], [], 0
        pure = ours(pool, places)
        index = similarity.new_index()
        for pair in pairs:
            query = as_ticket(pair.duplicate).text
            with sessions() as session:
                started = time.perf_counter()
                found = similarity.similar_open_tickets(session, query, category=pair.category, places=places,
                                                        limit=3, now=now + dt.timedelta(minutes=1), index=index)
                seconds.append(time.perf_counter() - started)
            wanted = numbers[pool.original[pair.id]]
            got = [t.number for t in found]
            ranks.append(got.index(wanted) + 1 if wanted in got else NOT_FOUND)
            agree += got == [numbers[i] for i, s in pure(query, pair.category)[:3] if s >= similarity.MIN_SCORE]
        engine.dispose()
    n = len(pairs)
    ms = sorted(s * 1000 for s in seconds)
    click.echo(f"  similar_open_tickets (limit 3, min_score {similarity.MIN_SCORE}): "
               f"recall@1 {sum(r == 1 for r in ranks) / n:.3f}  recall@3 {sum(r <= 3 for r in ranks) / n:.3f}  "
               f"p50 {statistics.median(ms):.1f} ms  p95 {statistics.quantiles(ms, n=20)[18]:.1f} ms  "
               f"same top 3 as rank(): {agree}/{n}")


@click.command()
@click.option("--distractors", default=3000, show_default=True, help="dev.csv messages added as other open tickets.")
@click.option("--seed", default=7, show_default=True)
@click.option("--before-queries", default=12, show_default=True,
              help="Queries timed with the first version of the scoring (slow).")
@click.option("--skip-database", is_flag=True, help="Only the pure ranking, no SQLite run.")
def main(distractors: int, seed: int, before_queries: int, skip_database: bool) -> None:
    with SHIPPED_DATA[0].open(encoding="utf-8-sig", newline="") as handle:
        dev = {row["id"]: row for row in csv.DictReader(handle)}
    pairs = load_pairs(PAIRS, dev)
    pool = build_pool(pairs, dev, distractors, seed)
    city = load_city(DEMO_CITY)
    gazetteer = Gazetteer(city.gazetteer)

    def places(text: str) -> list[str]:
        return [code for _, code in gazetteer.find(text)]

    styles = ", ".join(f"{s} {sum(p.style == s for p in pairs)}" for s in ("sms", "phone", "web"))
    click.echo(f"{len(pairs)} pairs ({styles}; {sum(p.source == 'dev' for p in pairs)} from dev.csv, "
               f"{sum(p.source == 'jiyuan' for p in pairs)} in Jiyuan), {len(pool.near_miss)} near misses, "
               f"pool {len(pool.candidates)} open tickets")
    half_a, half_b = halves(pairs, seed)
    tuning = [p for p in pairs if p.id in half_a]
    click.echo("text_chars on half A only (R@1 R@3 rank near>orig):")
    for chars in (150, 300, 500, None):
        click.echo(f"  {chars!s:>5}: {summary(run(ours(pool, places, text_chars=chars), pool, tuning))}")
    methods = {f"ours ({similarity.TEXT_CHARS} chars + bonuses)": ours(pool, places),
               "ours, text only": ours(pool, None, False),
               "ours, whole texts": ours(pool, places, text_chars=None),
               "baseline word TF-IDF": word_tfidf(pool), "baseline exact text": exact_text(pool)}
    click.echo(f"{'method':<27} {'half':<4} {'R@1':>6} {'R@3':>6} {'rank':>7} {'near>orig':>9}   time per query")
    results = {}
    for name, scorer in methods.items():
        scorer(as_ticket(pairs[0].duplicate).text, None)  # warm up
        results[name] = outcomes = run(scorer, pool, pairs)
        for label, ids in (("all", None), ("A", half_a), ("B", half_b)):
            part = [o for o in outcomes if ids is None or o.pair.id in ids]
            tail = timing(outcomes) if label == "all" else ""
            click.echo(f"{name:<27} {label:<4} {summary(part)}   {tail}")
    sample = pairs[:: max(1, len(pairs) // before_queries)][:before_queries]
    old = run(before(pool), pool, sample)
    click.echo(f"{'before (vocabulary, whole)':<27} {len(sample):<4} {summary(old)}   {timing(old)}")
    cold = run(ours(pool, places, kept=False), pool, sample)
    click.echo(f"{'ours, nothing kept':<27} {len(sample):<4} {summary(cold)}   {timing(cold)}")
    mine = results[f"ours ({similarity.TEXT_CHARS} chars + bonuses)"]
    click.echo("by style (ours R@1 / baseline word R@1): " + "  ".join(
        f"{s} {summary([o for o in mine if o.pair.style == s]).split()[0]}/"
        f"{summary([o for o in results['baseline word TF-IDF'] if o.pair.style == s]).split()[0]}"
        for s in ("sms", "phone", "web")))
    part_a = [o for o in mine if o.pair.id in half_a]
    part_b = [o for o in mine if o.pair.id in half_b]
    tuned = tune_threshold(part_a)
    for label, t in (("MIN_SCORE now", similarity.MIN_SCORE), ("tuned on half A", tuned)):
        (ha, fa), (hb, fb) = shown(part_a, t), shown(part_b, t)
        click.echo(f"min_score {t:.2f} ({label}): original suggested A {ha:.3f} B {hb:.3f}; "
                   f"false alarm without the original A {fa:.3f} B {fb:.3f}")
    if not skip_database:
        click.echo("end to end through SQLite:")
        end_to_end(pool, pairs, places)


if __name__ == "__main__":
    main()
