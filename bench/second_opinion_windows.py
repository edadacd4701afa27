"""Time of the e5 second opinion a message: its windows packed into one pass of each model
(as the app reads them now, `FineTunedE5`), against the baseline measured in the same loop,
every window read alone by every model (as the app read them before). Both give the same
probabilities, which the run checks bit for bit.

    .venv/bin/python bench/second_opinion_windows.py [--messages 120] [--seed 0]

Needs the `embeddings` extra. The messages are a seeded sample of the shipped ones, title and
body as routing reads them; each is read both ways in turn, one BLAS thread, as the app does.
The time depends on a message's length (its windows), not on whether routing would ask.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from classifier.dataset import shipped_examples
    from classifier.features import message_text
    from classifier.second_opinion import FineTunedE5
    from classifier.text_windows import windows

    examples = shipped_examples()
    picked = np.random.default_rng(args.seed).choice(len(examples), args.messages, replace=False)
    texts = [message_text(examples[i].title, examples[i].body) for i in picked]
    model = FineTunedE5()

    def alone(text: str) -> np.ndarray:
        ids = [model.ids(part) for part in windows(text)]
        with model.lock, model.blas.limit(limits=1, user_api="blas"):
            each = [encoder.probabilities([window])[0] for window in ids for encoder in model.encoders]
        return np.mean(each, axis=0)

    model(texts[0]), alone(texts[0])   # warm
    packed_times, alone_times, same = [], [], 0
    for text in texts:
        started = time.perf_counter()
        baseline = alone(text)
        alone_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        answer = model(text)
        packed_times.append(time.perf_counter() - started)
        same += np.array_equal(answer, baseline)
    counts = [len(windows(text)) for text in texts]
    print(f"{len(texts)} messages, windows a message: mean {np.mean(counts):.2f}, "
          f"{sum(c > 1 for c in counts)} with more than one")
    for name, times in (("each window alone (baseline)", alone_times), ("windows packed (shipped)", packed_times)):
        ms = np.array(times) * 1000
        print(f"{name:30} p50 {np.percentile(ms, 50):6.0f} ms  p99 {np.percentile(ms, 99):6.0f} ms  "
              f"mean {ms.mean():6.0f} ms  {len(times) / sum(times):5.2f} messages/s")
    long = [i for i, c in enumerate(counts) if c > 1]
    if long:
        ratio = sum(packed_times[i] for i in long) / sum(alone_times[i] for i in long)
        print(f"messages of more than one window: packed takes {ratio:.0%} of the baseline's time")
    print(f"same probabilities to the bit: {same} of {len(texts)}")


if __name__ == "__main__":
    main()
