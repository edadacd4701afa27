"""Knowledge base search: retrieval quality on paraphrased questions (recall of the right
article in the top 3, and MRR) and search latency at 10,000 articles, beside a plain
LIKE scan measured in the same run.

    .venv/bin/python bench/kb.py [--articles FILE] [--questions FILE] [--total 10000]
                                 [--database-url URL]

Articles are imported as `hotline kb import` imports them (default: the demo city's ~50
articles); questions are JSON lines {"question", "title"} naming the article that answers
them (default: bench/data/kb_questions.jsonl, written as callers would ask, not with the
articles' words). For the latency the base is filled up to --total articles with
articles made from the classifier's real citizen messages (title = the message's title,
body = its text), so the common words are as common as in a real base. The LIKE baseline
ORs each question word (the same jieba words) over title, keywords and body and ranks by
how many words matched."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import case, insert, literal, or_, select  # noqa: E402

from dispatch import db, kb, kb_use  # noqa: E402
from dispatch.actors import Actor  # noqa: E402
from dispatch.clock import utcnow  # noqa: E402
from dispatch.demo import DEMO_KNOWLEDGE  # noqa: E402
from dispatch.kb_search import KbIndexCache  # noqa: E402
from dispatch.models import KbArticle, KbArticleVersion, Unit  # noqa: E402
from dispatch.units import DEMO_CITY, import_units, load_city  # noqa: E402

QUESTIONS = ROOT / "bench" / "data" / "kb_questions.jsonl"


def fill(session, total: int) -> int:  # type: ignore[no-untyped-def]
    """Published filler articles from real citizen messages, written straight in (as an
    import would leave them: one version each)."""
    from classifier.dataset import shipped_examples

    have = session.scalar(select(KbArticle.id).order_by(KbArticle.id.desc()).limit(1)) or 0
    units = list(session.scalars(select(Unit.id)))
    examples = shipped_examples()
    now = utcnow()
    rows, versions = [], []
    for i in range(max(0, total - kb.count(session))):
        e = examples[i % len(examples)]
        article_id = have + i + 1
        title = f"{e.title[:60]}（{i}）"
        rows.append({"id": article_id, "unit_id": units[i % len(units)], "state": "published", "version": 1,
                     "published_version": 1, "title": title, "body": e.body, "keywords": e.label,
                     "category": e.label, "public": True, "created_at": now, "changed_at": now})
        versions.append({"article_id": article_id, "version": 1, "title": title, "body": e.body,
                         "keywords": e.label, "category": e.label, "public": True, "edited_by": "bench",
                         "edited_at": now})
    if rows:
        session.execute(insert(KbArticle), rows)
        session.execute(insert(KbArticleVersion), versions)
    return len(rows)


def like_search(session, words: list[str], limit: int = 5) -> list[int]:  # type: ignore[no-untyped-def]
    """The baseline: any word in title, keywords or body, ranked by words matched."""
    if not words:
        return []
    matched = [or_(KbArticle.title.contains(w, autoescape=True), KbArticle.keywords.contains(w, autoescape=True),
                   KbArticle.body.contains(w, autoescape=True)) for w in words]
    score = sum((case((m, 1), else_=0) for m in matched), literal(0))
    query = (select(KbArticle.id).where(KbArticle.state == "published", or_(*matched))
             .order_by(score.desc(), KbArticle.id).limit(limit))
    return list(session.scalars(query))


def quality(ranked: list[list[int]], expected: list[int]) -> tuple[float, float]:
    recall = sum(e in r[:3] for r, e in zip(ranked, expected)) / len(expected)
    mrr = sum(1 / (r.index(e) + 1) if e in r else 0 for r, e in zip(ranked, expected)) / len(expected)
    return recall, mrr


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=DEMO_KNOWLEDGE)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--total", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the questions for the latency")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/kb.db"
        db.recreate_schema(url)
        engine = db.make_engine(url)
        sessions = db.make_sessionmaker(engine)
        with sessions.begin() as session:
            import_units(session, load_city(DEMO_CITY))
            result = kb.import_lines(session, args.articles.read_text(encoding="utf-8").splitlines(),
                                     Actor.system("bench"))
            if result.problems:
                sys.exit(f"{args.articles}: line {result.problems[0].line}: {result.problems[0].error}")
        questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
        cache = KbIndexCache()
        with sessions() as session:
            ids = dict(session.execute(select(KbArticle.title, KbArticle.id)).all())
            expected = [ids[q["title"]] for q in questions]
            words = [cache.words(q["question"]) for q in questions]
            index = cache.current(session)
            ours = [[h.article_id for h in index.search(q["question"], today=dt.date.today(), limit=10).hits]
                    for q in questions]
            like = [like_search(session, w, limit=10) for w in words]
        print(f"Retrieval, {len(questions)} paraphrased questions over {len(ids)} articles ({args.articles.name}):")
        for name, ranked in (("jieba + BM25 + synonyms", ours), ("LIKE scan, words ranked by matches", like)):
            recall, mrr = quality(ranked, expected)
            print(f"  {name:36s} recall@3 {recall:.3f}  MRR {mrr:.3f}")
        missed = [q["question"] for q, r, e in zip(questions, ours, expected) if e not in r[:3]]
        if missed:
            print("  not in our top 3: " + "；".join(missed))

        with sessions.begin() as session:
            added = fill(session, args.total)
        cache = KbIndexCache()   # a fresh one: built at once, not behind the searches
        with sessions() as session:
            started = time.perf_counter()
            index = cache.current(session)
            built = time.perf_counter() - started
            total = len(index.docs)
            ours_t, full_t, like_t = [], [], []
            today = dt.date.today()
            for _ in range(args.rounds):
                for q, w in zip(questions, words):
                    t = time.perf_counter()
                    index.search(q["question"], today=today)
                    ours_t.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    kb_use.search(session, cache, q["question"])      # with the change-stamp query
                    full_t.append(time.perf_counter() - t)
            for q, w in zip(questions, words):   # one pass: each scan reads every row
                t = time.perf_counter()
                like_search(session, w)
                like_t.append(time.perf_counter() - t)
            with_fill = [[h.article_id for h in index.search(q["question"], today=today, limit=10).hits]
                         for q in questions]
        print(f"\nLatency at {total:,} published articles ({added:,} made from citizen messages), "
              f"{engine.dialect.name}, index built in {built:.2f} s:")
        for name, samples in (("index search", ours_t), ("kb_use.search (+ change stamp query)", full_t),
                              ("LIKE scan (baseline)", like_t)):
            p50, p99 = percentiles(samples)
            print(f"  {name:38s} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  ({len(samples)} searches)")
        recall, mrr = quality(with_fill, expected)
        print(f"  retrieval among the {total:,}: recall@3 {recall:.3f}  MRR {mrr:.3f}")
        engine.dispose()


if __name__ == "__main__":
    main()
