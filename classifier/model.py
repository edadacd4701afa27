"""Training and prediction: TF-IDF features into a linear model with calibrated probabilities.

The model is two such SVMs on the same words and characters, one on raw term counts and one
on log(1 + count) (its partner), whose probabilities are averaged: on the grouped folds the
pair beat the raw-count SVM alone on macro-F1 in every fold and ranked its own mistakes lower
(classifier/EXPERIMENTS.md, "Two SVMs"). Both read the tokens of one tokenizer."""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from classifier.dataset import Example
from classifier.features import FeatureSettings, Features, Progress, message_text
from classifier.linear import CalibratedLinearSVC
from classifier.text import Tokenizer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    probability: float


@dataclass(frozen=True)
class ModelSettings:
    features: FeatureSettings = field(default_factory=FeatureSettings)
    c: float = 1.0  # LinearSVC regularisation; EXPERIMENTS.md has the sweep
    class_weight: str | None = "balanced"  # the smallest class (交通运输) is 1/3 of the largest
    calibration_folds: int = 3
    log_tf_partner: bool = True  # also fit the log-tf SVM and average the two (module docstring)
    threads: int = 2  # SVM fits side by side (EXPERIMENTS.md, "Training time"); 1 = one after another


ROW_PATH_CHARS = 150  # below it the row path is faster (0-99 chars: 155 vs 242 us; 200+: slower)


class TrainedModel:
    """A fitted model: the features, the calibrated classifier and the labels it knows, and
    the partner SVM (its own features, same tokenizer) whose probabilities are averaged in."""

    partner: tuple[Features, CalibratedLinearSVC] | None = None  # None in files saved before it

    def __init__(self, features: Features, estimator: CalibratedLinearSVC, settings: ModelSettings,
                 partner: tuple[Features, CalibratedLinearSVC] | None = None) -> None:
        self.features = features
        self.estimator = estimator
        self.settings = settings
        self.partner = partner
        self.labels: tuple[str, ...] = tuple(str(label) for label in estimator.classes_)

    @property
    def user_words(self) -> tuple[str, ...]:
        return self.features.tokenizer.user_words

    def add_user_words(self, words: Sequence[str]) -> None:
        """Keep these words whole when tokenising; words unseen in training add no features,
        so pass a city's place names to train() as well."""
        self.features.tokenizer.add_user_words(words)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per label (in self.labels order)."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        prepared = self.features.prepare(texts)
        counts = self.features.counts(texts, prepared)
        matrix = self.features.transform(texts, prepared) if counts is None else self.features.weigh(counts)
        table = self.estimator.predict_proba(matrix)
        if self.partner is not None:
            features, estimator = self.partner
            if counts is not None and self._partner_counts_alike():
                # Same grams, same vocabulary: each text's grams are counted once for both.
                matrix = features.weigh(counts)
            else:
                # The partner reads the same tokens: each text is cut once, not once per SVM.
                matrix = features.transform(texts, prepared if features.reads_like(self.features) else None)
            table = (table + estimator.predict_proba(matrix)) / 2
        return table

    def _partner_counts_alike(self) -> bool:
        """Features.counts_like(), asked once per model: comparing the vocabularies costs
        milliseconds. Kept out of model files (__getstate__)."""
        alike = self.__dict__.get("_counts_alike")
        if alike is None:
            alike = self._counts_alike = self.partner is not None and self.partner[0].counts_like(self.features)
        return alike

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_counts_alike", None)  # derived: model files stay as they were
        return state

    def predict_many(self, texts: Sequence[str], k: int = 3) -> list[list[Prediction]]:
        """Top-k predictions for each text; never raises on odd text (see text.has_content)."""
        k = max(1, min(k, len(self.labels)))
        table = self.probabilities(texts)
        best = np.argsort(-table, axis=1, kind="stable")[:, :k]
        return [
            [Prediction(self.labels[column], float(row[column])) for column in columns]
            for row, columns in zip(table, best)
        ]

    def predict(self, text: str, k: int = 3) -> list[Prediction]:
        """predict_many([text], k)[0]. A short text (most SMS) takes a path
        without sparse matrices, whose fixed cost was most of its time; from ROW_PATH_CHARS
        on, counting grams in numpy is the faster way (measured, EXPERIMENTS.md)."""
        if len(text) >= ROW_PATH_CHARS:
            return self.predict_many([text], k)[0]
        k = max(1, min(k, len(self.labels)))
        prepared = self.features.prepare_one(text)
        counts = self.features.row_counts(text, prepared)
        row = self.estimator.predict_proba_row(*self.features.weigh_row(counts))
        if self.partner is not None:
            features, estimator = self.partner
            if self._partner_counts_alike():  # each text's grams counted once for both
                columns, values = features.weigh_row(counts)
            else:
                columns, values = features.transform_one(text, prepared if features.reads_like(self.features) else None)
            row = (row + estimator.predict_proba_row(columns, values)) / 2
        return [Prediction(self.labels[column], float(row[column])) for column in np.argsort(-row, kind="stable")[:k]]

    def predict_each(self, texts: Sequence[str], k: int = 3) -> list[list[Prediction]]:
        """[predict(text, k) for text in texts], with the long texts' numbers computed in one
        predict_many() call: a row of probabilities does not depend on the other texts of
        its batch (the same to the bit), and numpy's fixed costs are paid once for them all."""
        long = [i for i, text in enumerate(texts) if len(text) >= ROW_PATH_CHARS]
        answers: list[list[Prediction]] = [[] for _ in texts]
        for i, predictions in zip(long, self.predict_many([texts[i] for i in long], k) if long else []):
            answers[i] = predictions
        for i, text in enumerate(texts):
            if len(text) < ROW_PATH_CHARS:
                answers[i] = self.predict(text, k)
        return answers

    def predictions_of(self, row: np.ndarray) -> list[Prediction]:
        """Every label's Prediction from one row of probabilities(), most probable first."""
        return [Prediction(self.labels[column], float(row[column])) for column in np.argsort(-row, kind="stable")]

    def predict_labels(self, texts: Sequence[str]) -> list[str]:
        table = self.probabilities(texts)
        return [self.labels[column] for column in table.argmax(axis=1)]


def texts_of(examples: Sequence[Example]) -> list[str]:
    return [message_text(example.title, example.body) for example in examples]


def train(
    examples: Sequence[Example],
    *,
    user_words: Sequence[str] = (),
    settings: ModelSettings | None = None,
    progress: Progress | None = None,
) -> TrainedModel:
    """Fit a model on labelled examples; progress(step, done, total) is called along the way."""
    settings = settings or ModelSettings()
    labels = sorted({example.label for example in examples})
    if len(labels) < 2:
        raise ValueError(f"training needs at least two labels, got {labels}")
    started = time.perf_counter()
    features = Features(Tokenizer(user_words), settings.features)
    texts = texts_of(examples)
    cleaned, tokens = features.prepare(texts, progress)
    matrix = features.fit_prepared(cleaned, tokens, progress)
    targets = [example.label for example in examples]
    # Calibration folds need every label in each fold: fewer folds for tiny training sets.
    smallest = min(targets.count(label) for label in labels)
    folds = max(2, min(settings.calibration_folds, smallest))
    if progress:
        progress("fitting", 0, 1)
    # liblinear releases the GIL: the SVMs (each one final fit and one per calibration fold)
    # run in threads, and the log-tf partner's features are built while the first SVMs fit.
    with ThreadPoolExecutor(max_workers=max(1, settings.threads)) as pool:
        finish = CalibratedLinearSVC(c=settings.c, class_weight=settings.class_weight,
                                     folds=folds).fit_submit(matrix, targets, pool)
        finish_partner = None
        if settings.log_tf_partner:
            log_features = Features(features.tokenizer, replace(settings.features, sublinear_tf=True))
            if log_features.settings.max_chars != features.settings.max_chars:
                cleaned, tokens = log_features.prepare(texts, None)
            log_matrix = log_features.fit_prepared(cleaned, tokens)
            finish_partner = CalibratedLinearSVC(c=settings.c, class_weight=settings.class_weight,
                                                 folds=folds).fit_submit(log_matrix, targets, pool)
        estimator = finish()
        partner = (log_features, finish_partner()) if finish_partner is not None else None
    if progress:
        progress("fitting", 1, 1)
    log.info(
        "classifier.trained examples=%d labels=%d features=%d seconds=%.1f",
        len(examples), len(labels), features.size, time.perf_counter() - started,
    )
    return TrainedModel(features, estimator, settings, partner)
