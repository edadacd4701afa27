"""Cosines of character 2-3-gram TF-IDF vectors between a query and a pool of texts, with each
text's gram counts computed once and the pool's matrix kept between calls.

The figures are those of fitting sklearn's TfidfTransformer(sublinear_tf=True) on the query
and the pool together and taking the l2-normalised dot products (as dispatch/similarity.py
did on every call): the IDF is still that of the pool at hand plus the query, computed per
query from the pool's document frequencies, so nothing here changes what is found. Only the
order of the float operations differs (cosines agree to about 1e-15).

What is kept is a pure function of the texts (the pool is looked up by its texts), so a
cache can never be stale: a changed open set is a different pool. Safe to share between
threads; each process keeps its own.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

N_FEATURES = 2**20
GRAMS = HashingVectorizer(analyzer="char", ngram_range=(2, 3), alternate_sign=False, norm=None,
                          n_features=N_FEATURES)

K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(frozen=True)
class _Counts:
    """One text's hashed grams (sorted, distinct) and how often each occurs."""
    features: np.ndarray    # int32
    counts: np.ndarray      # uint16: a gram occurs at most a few hundred times in a short text


@dataclass(frozen=True)
class _Pool:
    """The pool's sublinear term frequencies over the columns (hashed grams) it uses."""
    columns: np.ndarray     # sorted hashed features present in the pool
    tf: sp.csr_matrix       # rows x columns: 1 + ln(count)
    tf_squared: sp.csr_matrix
    df: np.ndarray          # float64 per column: how many rows contain it


class GramIndex:
    """Keeps the gram counts of up to `max_texts` texts and the last `max_pools` pools. Each
    text is read through `prepare` (cleaning, truncating), once: texts are kept as given."""

    def __init__(self, prepare: Callable[[str], str], max_texts: int = 10_000,
                 max_pools: int = 2) -> None:
        self.prepare = prepare
        self._texts: _Lru[str, _Counts] = _Lru(max_texts)
        self._pools: _Lru[tuple[str, ...], _Pool] = _Lru(max_pools)
        self._units: _Lru[tuple[str, ...], sp.csr_matrix] = _Lru(max_pools)

    def counts(self, texts: Sequence[str]) -> list[_Counts]:
        found = [self._texts.get(text) for text in texts]
        missing = sorted({text for text, counts in zip(texts, found) if counts is None})
        if missing:
            made = dict(zip(missing, _count([self.prepare(text) for text in missing])))
            for text, counts in made.items():
                self._texts.put(text, counts)
            found = [made[text] if counts is None else counts for text, counts in zip(texts, found)]
        return found  # type: ignore[return-value]

    def pool(self, texts: Sequence[str]) -> _Pool:
        key = tuple(texts)
        pool = self._pools.get(key)
        if pool is None:
            pool = _assemble(self.counts(key))
            self._pools.put(key, pool)
        return pool

    def unit_rows(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The pool's l2-normalised TF-IDF rows (unit_rows), kept with the pool."""
        key = tuple(texts)
        found = self._units.get(key)
        if found is None:
            found = unit_rows(self.pool(key))
            self._units.put(key, found)
        return found

    def cosines(self, query: str, pool_texts: Sequence[str], skip: int | None = None) -> np.ndarray | None:
        """Cosine of the query with each pool text, as prepared (the skipped one left out of the
        IDF; its own figure is meaningless). None when no text has a single gram."""
        pool = self.pool(pool_texts)
        (query_counts,) = self.counts([query])
        rows = pool.tf.shape[0]
        df = pool.df.copy()
        pool_nnz = pool.tf.nnz
        if skip is not None:
            start, end = pool.tf.indptr[skip], pool.tf.indptr[skip + 1]
            df[pool.tf.indices[start:end]] -= 1
            pool_nnz -= end - start
            rows -= 1
        if pool_nnz == 0 and len(query_counts.features) == 0:
            return None
        n = rows + 1                            # the query is a document of the fit too
        at = np.searchsorted(pool.columns, query_counts.features)
        at_clipped = np.minimum(at, len(pool.columns) - 1)
        in_pool = (pool.columns[at_clipped] == query_counts.features) if len(pool.columns) else \
            np.zeros(len(query_counts.features), dtype=bool)
        df[at_clipped[in_pool]] += 1
        # As sklearn: idf = ln((n + 1) / (df + 1)) + 1, with smooth_idf.
        idf = np.log((n + 1) / (df + 1)) + 1
        query_idf = np.full(len(query_counts.features), np.log((n + 1) / 2) + 1)  # grams only it has
        query_idf[in_pool] = idf[at_clipped[in_pool]]
        query_tf = 1 + np.log(query_counts.counts.astype(np.float64))
        query_norm = float(np.sqrt(np.sum((query_tf * query_idf) ** 2)))
        weights = np.zeros(len(pool.columns))
        weights[at_clipped[in_pool]] = query_tf[in_pool] * idf[at_clipped[in_pool]] ** 2
        dots = pool.tf @ weights
        norms = np.sqrt(pool.tf_squared @ (idf * idf))
        with np.errstate(divide="ignore", invalid="ignore"):
            cosines = dots / (norms * query_norm)
        cosines[~np.isfinite(cosines)] = 0.0     # an empty text: sklearn leaves its row at zero
        return cosines


def _count(texts: Sequence[str]) -> list[_Counts]:
    matrix = GRAMS.transform(texts).tocsr()
    matrix.sum_duplicates()
    matrix.sort_indices()
    return [_Counts(matrix.indices[s:e].astype(np.int32), matrix.data[s:e].astype(np.uint16))
            for s, e in zip(matrix.indptr[:-1], matrix.indptr[1:])]


def _assemble(texts: Sequence[_Counts]) -> _Pool:
    lengths = np.fromiter((len(c.features) for c in texts), dtype=np.int64, count=len(texts))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    features = np.concatenate([c.features for c in texts]) if texts else np.zeros(0, np.int32)
    counts = np.concatenate([c.counts for c in texts]) if texts else np.zeros(0, np.uint16)
    # Compact the columns to those used, without sorting the 10^6 grams: mark, then number.
    used = np.zeros(N_FEATURES, dtype=bool)
    used[features] = True
    columns = np.flatnonzero(used).astype(np.int32)
    number = np.zeros(N_FEATURES, dtype=np.int32)
    number[columns] = np.arange(len(columns), dtype=np.int32)
    compact = number[features]
    tf_data = 1 + np.log(counts.astype(np.float64))
    shape = (len(texts), len(columns))
    tf = sp.csr_matrix((tf_data, compact, indptr), shape=shape)
    tf_squared = sp.csr_matrix((tf_data * tf_data, compact, indptr), shape=shape)
    df = np.bincount(compact, minlength=len(columns)).astype(np.float64)
    return _Pool(columns, tf, tf_squared, df)


def unit_rows(pool: _Pool) -> sp.csr_matrix:
    """The pool's TF-IDF rows (the IDF of the pool alone, smooth, as sklearn), l2-normalised:
    the cosine of two texts is the dot product of their rows."""
    n = pool.tf.shape[0]
    idf = np.log((n + 1) / (pool.df + 1)) + 1
    # On the stored entries directly: sparse products with diagonal matrices cost several times more.
    weighted = pool.tf.data * idf[pool.tf.indices]
    row = np.repeat(np.arange(n), np.diff(pool.tf.indptr))
    norms = np.sqrt(np.bincount(row, weights=weighted * weighted, minlength=n))
    norms[norms == 0] = 1.0
    return sp.csr_matrix((weighted * (1 / norms)[row], pool.tf.indices.copy(), pool.tf.indptr.copy()),
                         shape=pool.tf.shape)


def pairwise(index: GramIndex, texts: Sequence[str], min_cosine: float, chunk: int = 512) -> list[dict[int, float]]:
    """For each text, the other texts whose cosine with it reaches `min_cosine` (index -> cosine),
    with the IDF of these texts alone (smooth, as sklearn). Computed a block of rows at a time, so
    a pool of thousands never holds its whole n x n matrix."""
    if not texts:
        return []
    unit = unit_rows(index.pool(texts))
    n = unit.shape[0]
    columns = unit.T.tocsc()
    found: list[dict[int, float]] = []
    for start in range(0, n, chunk):
        block = (unit[start:start + chunk] @ columns).toarray()
        for offset, row in enumerate(block):
            row[start + offset] = 0.0          # not its own neighbour
            near = np.flatnonzero(row >= min_cosine)
            found.append({int(j): float(row[j]) for j in near})
    return found
