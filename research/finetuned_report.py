"""The shipped fine-tuned second opinion, scored as the app runs it (numpy, the 4-bit changes
of classifier/data/e5_finetuned.npz), on the report part. Runs in the project's own venv with
the embeddings extra; no torch.

    python -m research.finetuned_report fidelity   # shipped numpy model vs torch's table of the same
                                                   # weights (cache/finetune_part4.npz, finetune_e5 fold 4)
    python -m research.finetuned_report report     # `hotline classifier eval`'s figures, fast pair alone
                                                   # and with the second opinion below 0.88
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


if __name__ == "__main__":
    {"fidelity": fidelity, "report": report}[sys.argv[1]]()
