"""The shipped fine-tuned second opinion, scored as the app runs it (numpy, the 4-bit changes
of classifier/data/e5_finetuned.npz), on the report part. Runs in the project's own venv with
the embeddings extra; no torch.

    python -m research.finetuned_report fidelity   # shipped numpy model vs torch's table of the same
                                                   # weights (cache/finetune_part4.npz, finetune_e5 fold 4)
    python -m research.finetuned_report report     # `hotline classifier eval`'s figures, fast pair alone
                                                   # and with the second opinion below 0.88
    python -m research.finetuned_report agree      # out of fold (finetune_e5 fold 1-3's tables): the rule's
                                                   # ECE, and routing more of the asked ones when the two agree
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

CACHE = Path(__file__).parent.parent / "cache"


def fidelity() -> None:
    from classifier.features import message_text
    from classifier.second_opinion import FineTunedE5
    from research.experiments import study_parts

    report = study_parts()[1]
    torch_table = np.load(CACHE / "finetune_part4.npz")
    model = FineTunedE5()
    assert list(model.labels) == [str(x) for x in torch_table["labels"]]
    started = time.perf_counter()
    ours = np.array([model(message_text(e.title, e.body)) for e in report])
    took = time.perf_counter() - started
    difference = np.abs(ours - torch_table["table"])
    same = (ours.argmax(1) == torch_table["table"].argmax(1)).mean()
    print(f"{len(report)} report messages in {took:.0f} s: largest probability difference {difference.max():.4f}, "
          f"mean {difference.mean():.5f}; same top label {same:.4f}")


def report(threshold: float = 0.88) -> None:
    from classifier.dataset import SHIPPED_DATA, read_examples
    from classifier.evaluation import evaluate
    from classifier.model import train
    from classifier.second_opinion import load_second_opinion
    from classifier.text import read_user_dict
    from research.experiments import study_parts

    tune, report_part, _ = study_parts()
    model = train(list(tune) + read_examples(SHIPPED_DATA[1]), user_words=tuple(read_user_dict()))
    opinion = load_second_opinion(model.labels)
    assert opinion is not None, "pip install '.[embeddings]' first"
    for name, second in (("fast pair alone", None), ("with the fine-tuned second opinion", opinion)):
        m = evaluate(model, report_part, min_confidence=threshold, second_opinion=second)
        at = m["at_threshold"]
        print(f"{name}: macro-F1 {m['macro_f1']:.4f}, accuracy {m['accuracy']:.4f}; at {threshold}: coverage "
              f"{at['coverage']:.3f}, accuracy {at['accuracy']:.4f}; ECE {m['ece']:.3f}; asked {m['second_opinion_asked']}")
        print("  " + ", ".join(f"{p['threshold']:.2f}: {p['coverage']:.3f} / {p['accuracy']:.4f}"
                               for p in m["selective"]))


def _fast_tables() -> list[np.ndarray]:
    """The fast pair's probabilities on each tuning fold, trained on the other two (cached)."""
    from classifier.features import message_text
    from classifier.model import train
    from classifier.text import read_user_dict
    from research.experiments import study_parts

    tables = []
    for number, (train_part, test_part) in enumerate(study_parts()[2][:3], 1):
        path = CACHE / f"fastpair_part{number}.npz"
        if not path.exists():
            model = train(train_part, user_words=tuple(read_user_dict()))
            table = model.probabilities([message_text(e.title, e.body) for e in test_part])
            np.savez(path, labels=np.array(model.labels), table=table)
        saved = np.load(path)
        tables.append(saved["table"][:, np.argsort(saved["labels"])])   # columns in sorted label order
    return tables


def agree(threshold: float = 0.88) -> None:
    """Over the folds whose fine-tuned table exists (fold 1 alone first, to fix a rule before
    folds 2 and 3 are seen)."""
    from sklearn.metrics import f1_score

    from classifier.selective import expected_calibration_error

    folds = [k for k in (1, 2, 3) if (CACHE / f"finetune_part{k}.npz").exists()]
    print(f"folds {folds}")
    fast = np.concatenate([_fast_tables()[k - 1] for k in folds])
    parts = [np.load(CACHE / f"finetune_part{k}.npz") for k in folds]
    labels = parts[0]["labels"]
    tuned = np.concatenate([p["table"] for p in parts])
    truth = np.concatenate([p["truth"] for p in parts])
    asked = fast.max(1) < threshold
    mixed = np.where(asked[:, None], (fast + tuned) / 2, fast)
    for name, table in (("fast pair", fast), ("rule: averaged at 0.5 below 0.88", mixed)):
        guess = labels[table.argmax(1)]
        right, routed = guess == truth, table.max(1) >= threshold
        print(f"{name}: macro-F1 {f1_score(truth, guess, average='macro'):.4f}, accuracy {right.mean():.4f}, "
              f"at {threshold} {routed.mean():.3f} / {right[routed].mean():.4f}, "
              f"ECE {expected_calibration_error(table.max(1), right):.3f}")
    guess = labels[mixed.argmax(1)]
    right = guess == truth
    same = fast.argmax(1) == tuned.argmax(1)
    print(f"asked {asked.mean():.3f}; of those the two agree on {same[asked].mean():.3f}")
    for floor in (0.6, 0.65, 0.7, 0.75, 0.8, 0.85):
        routed = (mixed.max(1) >= threshold) | (asked & same & (fast.max(1) >= floor))
        print(f"  also route the asked ones both agree on with fast >= {floor}: "
              f"{routed.mean():.3f} / {right[routed].mean():.4f}")


if __name__ == "__main__":
    {"fidelity": fidelity, "report": report, "agree": agree}[sys.argv[1]]()
