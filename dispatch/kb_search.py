"""Search of the knowledge base: jieba words (search mode) over title, keywords and body,
ranked by BM25 with the title and keywords weighing more, synonyms folded into one word
from the city's list, and the best passage of the body highlighted.

The index lives in memory and is rebuilt when an article changes (KbIndexCache checks the
articles' change stamp, one small query per search). Each posting keeps its whole BM25
weight, so a search is a few numpy additions: about a millisecond at 10,000 articles
(bench/kb.py)."""
from __future__ import annotations

import datetime as dt
import functools
import html
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import KbArticle, KbArticleVersion

SYNONYMS_FILE = Path(__file__).parent / "cities" / "kb_synonyms.txt"
K1, B = 1.2, 0.75
TITLE_WEIGHT, KEYWORD_WEIGHT = 5, 3
NO_DAY, FAR_DAY = 0, 10**7     # date ordinals standing for "no limit"
SNIPPET_CHARS = 90
_PASSAGE_END = re.compile(r"(?<=[。！？；\n])")
_MARKDOWN_MARKS = re.compile(r"^\s*(#{1,6}\s*|[-*+]\s+|\d+\.\s+|>\s*)|[*_`]+|!?\[([^\]]*)\]\([^)]*\)", re.MULTILINE)


# -- words ----------------------------------------------------------------------------------

def read_synonyms(text: str) -> list[tuple[str, ...]]:
    """One group a line, the word to fold into first: `社会保险 社保 五险`; '#' starts a comment."""
    groups = []
    for line in text.splitlines():
        words = tuple(dict.fromkeys(line.split("#", 1)[0].split()))
        if len(words) > 1:
            groups.append(words)
    return groups


@dataclass(frozen=True)
class Synonyms:
    groups: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def from_file(cls, path: Path | None = None) -> Synonyms:
        return cls(tuple(read_synonyms((path or SYNONYMS_FILE).read_text(encoding="utf-8-sig"))))

    @functools.cached_property
    def _folding(self) -> tuple[re.Pattern[str] | None, dict[str, str]]:
        # The first words map to themselves, so that the longest match wins: 补办 stays 补办
        # even when a group folds 办 into 办理.
        canonical = {w: g[0] for g in self.groups for w in g}
        if not canonical:
            return None, {}
        pattern = re.compile("|".join(re.escape(w) for w in sorted(canonical, key=len, reverse=True)))
        return pattern, canonical

    def fold(self, text: str) -> str:
        pattern, canonical = self._folding
        return text if pattern is None else pattern.sub(lambda m: canonical[m.group(0)], text)

    def surfaces(self, word: str) -> tuple[str, ...]:
        """The words a folded word stands for, itself first (to highlight the text as written)."""
        for group in self.groups:
            if group[0] == word:
                return group
        return (word,)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(g[0] for g in self.groups)


class Words:
    """The tokenizer: rjieba's search mode (a long word and its parts), stop words out,
    the synonym groups' words kept whole."""

    def __init__(self, synonyms: Synonyms) -> None:
        self.synonyms = synonyms
        self._jieba: Any = None
        self._lock = threading.Lock()

    @functools.cached_property
    def _stop(self) -> frozenset[str]:
        from classifier.text import STOP_WORDS, read_user_dict

        return frozenset(read_user_dict(STOP_WORDS, all_words=True))

    def _cutter(self) -> Any:
        with self._lock:
            if self._jieba is None:
                import rjieba

                jieba = rjieba.Jieba()
                for word in self.synonyms.words:
                    jieba.add_word(word, None, None)
                self._jieba = jieba
        return self._jieba

    def __call__(self, text: str) -> list[str]:
        folded = self.synonyms.fold(text.lower())
        stop = self._stop
        return [t for t in self._cutter().cut_for_search(folded, True) if t.isalnum() and t not in stop]


# -- the index ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Doc:
    article_id: int
    version: int
    unit_id: int
    title: str
    keywords: str
    body: str
    public: bool
    valid_from: dt.date | None
    valid_until: dt.date | None


@dataclass(frozen=True)
class Hit:
    article_id: int
    version: int
    title: str
    score: float
    coverage: float           # the share of the query's weight (idf) the article matched
    snippet: str              # plain text
    snippet_html: str         # the same, escaped, matched words in <mark>
    public: bool
    unit_id: int


@dataclass(frozen=True)
class Result:
    query: str
    hits: tuple[Hit, ...]
    min_coverage: float

    @property
    def useful(self) -> bool:
        """A search with no useful result is a gap in the base (the figures list them)."""
        return bool(self.hits) and self.hits[0].coverage >= self.min_coverage


class KbIndex:
    def __init__(self, docs: Sequence[Doc], words: Words) -> None:
        self.docs = list(docs)
        self.words = words
        n = len(self.docs)
        counts: list[Counter[str]] = []
        lengths = np.zeros(n, dtype=np.float32)
        for i, doc in enumerate(self.docs):
            tf: Counter[str] = Counter()
            for token in words(doc.title):
                tf[token] += TITLE_WEIGHT
            for token in words(doc.keywords):
                tf[token] += KEYWORD_WEIGHT
            tf.update(words(strip_markdown(doc.body)))
            counts.append(tf)
            lengths[i] = sum(tf.values())
        average = float(lengths.mean()) if n else 1.0
        df: Counter[str] = Counter()
        for tf in counts:
            df.update(tf.keys())
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.max_idf = math.log(1 + (n + 0.5) / 0.5) if n else 1.0
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for i, tf in enumerate(counts):
            norm = K1 * (1 - B + B * lengths[i] / (average or 1.0))
            for token, f in tf.items():
                ids, weights = postings.setdefault(token, ([], []))
                ids.append(i)
                weights.append(self.idf[token] * f * (K1 + 1) / (f + norm))
        self.doc_terms = [frozenset(tf) for tf in counts]
        self.postings = {t: (np.array(ids, dtype=np.int32), np.array(w, dtype=np.float32))
                         for t, (ids, w) in postings.items()}
        self.public = np.array([d.public for d in self.docs], dtype=bool)
        self.starts = np.array([d.valid_from.toordinal() if d.valid_from else NO_DAY for d in self.docs], dtype=np.int64)
        self.ends = np.array([d.valid_until.toordinal() if d.valid_until else FAR_DAY for d in self.docs], dtype=np.int64)

    def search(self, query: str, *, today: dt.date, include_internal: bool = False, limit: int = 5,
               min_coverage: float = 0.5) -> Result:
        terms = list(dict.fromkeys(self.words(query[:500])))
        if not terms or not self.docs:
            return Result(query, (), min_coverage)
        scores = np.zeros(len(self.docs), dtype=np.float32)
        for term in terms:
            found = self.postings.get(term)
            if found is not None:
                scores[found[0]] += found[1]
        day = today.toordinal()
        scores[(self.starts > day) | (self.ends < day)] = 0
        if not include_internal:
            scores[~self.public] = 0
        top = np.argpartition(-scores, min(limit, len(scores) - 1))[:limit] if len(scores) > limit else np.arange(len(scores))
        ranked = sorted((int(i) for i in top if scores[i] > 0), key=lambda i: (-scores[i], self.docs[i].article_id))
        total_weight = sum(self.idf.get(t, self.max_idf) for t in terms)
        hits = []
        for i in ranked:
            doc = self.docs[i]
            present = self._present(i, terms)
            coverage = sum(self.idf.get(t, self.max_idf) for t in present) / total_weight
            text, marked = snippet(doc.body, present, self.words.synonyms)
            hits.append(Hit(doc.article_id, doc.version, doc.title, round(float(scores[i]), 3), round(coverage, 3),
                            text, marked, doc.public, doc.unit_id))
        return Result(query, tuple(hits), min_coverage)

    def _present(self, i: int, terms: Iterable[str]) -> list[str]:
        return [t for t in terms if t in self.doc_terms[i]]


# -- passages -------------------------------------------------------------------------------

def strip_markdown(text: str) -> str:
    return _MARKDOWN_MARKS.sub(lambda m: m.group(2) or "", text)


def snippet(body: str, terms: Sequence[str], synonyms: Synonyms) -> tuple[str, str]:
    """The body's passage with the most query words, as plain text and as escaped HTML with
    the words (as written, synonyms too) in <mark>."""
    plain = strip_markdown(body)
    surfaces = sorted({s for t in terms for s in synonyms.surfaces(t) if len(s) > 1 or len(terms) == 1},
                      key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(s) for s in surfaces), re.IGNORECASE) if surfaces else None
    passages = [p.strip() for p in _PASSAGE_END.split(plain) if p.strip()] or [plain.strip()]
    best = 0
    if pattern is not None:
        hits = [len(set(m.group(0).lower() for m in pattern.finditer(p))) for p in passages]
        best = max(range(len(passages)), key=lambda i: (hits[i], -i))
    text = passages[best]
    following = best + 1
    while len(text) < SNIPPET_CHARS // 2 and following < len(passages):
        text += passages[following]
        following += 1
    text = " ".join(text.split())
    if len(text) > SNIPPET_CHARS:
        text = text[:SNIPPET_CHARS] + "…"
    if pattern is None:
        return text, html.escape(text)
    out, at = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[at:m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        at = m.end()
    out.append(html.escape(text[at:]))
    return text, "".join(out)


# -- from the database ----------------------------------------------------------------------

def published_docs(session: Session) -> list[Doc]:
    rows = session.execute(
        select(KbArticle.id, KbArticle.unit_id, KbArticleVersion)
        .join(KbArticleVersion, (KbArticleVersion.article_id == KbArticle.id)
              & (KbArticleVersion.version == KbArticle.published_version))
        .where(KbArticle.state == "published").order_by(KbArticle.id))
    return [Doc(article_id, v.version, unit_id, v.title, v.keywords, v.body, v.public, v.valid_from, v.valid_until)
            for article_id, unit_id, v in rows]


def change_stamp(session: Session) -> tuple[int, Any]:
    """(newest article id, newest change): two index lookups (articles are never deleted;
    every edit, publish and retire sets changed_at). A count would scan the table, 8 ms at
    10,000 articles on PostgreSQL."""
    # Two subqueries: SQLite answers a lone max() from the index, two in one SELECT by a scan.
    newest, latest = session.execute(select(select(func.max(KbArticle.id)).scalar_subquery(),
                                            select(func.max(KbArticle.changed_at)).scalar_subquery())).one()
    return int(newest or 0), latest


class KbIndexCache:
    """The index of this process, rebuilt when the articles' stamp moves (any process's edit).

    A small base (under INLINE_REBUILD articles, about a second) is rebuilt before the search
    that noticed the change, so an edit shows at once. A big one is rebuilt in a thread while
    searches keep using the previous index: nobody waits the seconds a 10,000-article build
    takes, and the edit shows when the build is done."""

    INLINE_REBUILD = 2_000

    def __init__(self, synonyms: Synonyms | None = None) -> None:
        self.words = Words(synonyms or Synonyms.from_file())
        self._index: KbIndex | None = None
        self._stamp: tuple[int, Any] | None = None
        self._lock = threading.Lock()
        self._building: threading.Thread | None = None

    def current(self, session: Session) -> KbIndex:
        stamp = change_stamp(session)
        index = self._index
        if index is not None and stamp == self._stamp:
            return index
        if index is not None and len(index.docs) >= self.INLINE_REBUILD:
            self._rebuild_behind(session, stamp)
            return index
        with self._lock:
            if self._index is None or stamp != self._stamp:
                self._index = KbIndex(published_docs(session), self.words)
                self._stamp = stamp
            return self._index

    def settle(self) -> None:
        """Wait for a rebuild in progress (tests, benchmarks)."""
        building = self._building
        if building is not None:
            building.join()

    def _rebuild_behind(self, session: Session, stamp: tuple[int, Any]) -> None:
        with self._lock:
            if self._building is not None and self._building.is_alive():
                return
            docs = published_docs(session)   # read here, in the caller's session and snapshot

            def build() -> None:
                index = KbIndex(docs, self.words)
                with self._lock:
                    self._index, self._stamp = index, stamp

            self._building = threading.Thread(target=build, name="kb-index", daemon=True)
            self._building.start()
