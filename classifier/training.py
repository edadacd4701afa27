"""Train, score on a held-out slice, refit on everything, save: what `train` and first start do."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sklearn.model_selection import GroupShuffleSplit

from classifier.dataset import HOLDOUT, Example, data_hash, shipped_examples
from classifier.errors import ModelNotFound
from classifier.evaluation import evaluate
from classifier.model import Progress, TrainedModel, train
from classifier.storage import load_model, save_model
from classifier.text import read_user_dict

log = logging.getLogger(__name__)


def holdout_split(examples: Sequence[Example], fraction: float = HOLDOUT, seed: int = 0) -> tuple[list[Example], list[Example]]:
    """(train, held out), split by duplicate group so a re-post never sits on both sides."""
    # Rows without a group (a city's own export) are each a group of their own.
    groups = [example.group or f"row-{index}" for index, example in enumerate(examples)]
    kept, held = next(GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed).split(examples, groups=groups))
    return [examples[i] for i in kept], [examples[i] for i in held]


def train_and_save(
    examples: Sequence[Example],
    model_dir: Path | str,
    *,
    user_words: Sequence[str] = (),
    holdout: float = HOLDOUT,
    progress: Progress | None = None,
    key: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Score a model trained without a held-out slice, then save one trained on all rows.

    The saved metrics are the held-out slice's: an honest estimate for the final model,
    which saw 1/(1-holdout) times more data.
    """
    words = tuple(read_user_dict()) + tuple(user_words)
    metrics: dict[str, Any] = {"trained_on": len(examples)}
    if holdout > 0:
        kept, held = holdout_split(examples, holdout)
        scored = train(kept, user_words=words, progress=_prefixed(progress, "held-out check: "))
        metrics["holdout"] = evaluate(scored, held)
        metrics["holdout_fraction"] = holdout
    model = train(examples, user_words=words, progress=_prefixed(progress, "final model: "))
    path = save_model(model, model_dir, data_hash=data_hash(examples), metrics=metrics, key=key)
    return path, metrics


def ensure_default_model(
    model_dir: Path | str,
    log: Callable[[str], None] | None = None,
    *,
    user_words: Sequence[str] = (),
    key: str | None = None,
) -> TrainedModel:
    """Load the newest model in model_dir, training the default one from shipped data first if
    there is none (app start, and eval/predict on a fresh clone)."""
    try:
        return load_model(model_dir, key=key)
    except ModelNotFound:
        pass
    say = log or _log_info
    say(f"no classifier model in {model_dir}: training the default model from the shipped data "
        "(it fits two models, a held-out check and the final one: about a minute and a half on a quiet "
        "2-core machine, up to ten minutes on a busy one)")
    path, metrics = train_and_save(shipped_examples(), model_dir, user_words=user_words, key=key)
    holdout = metrics.get("holdout", {})
    say(f"default classifier model written to {path} "
        f"(held-out accuracy {holdout.get('accuracy', 0):.3f}, macro-F1 {holdout.get('macro_f1', 0):.3f})")
    return load_model(model_dir, key=key)


def _log_info(message: str) -> None:
    log.info("classifier.%s", message)


def _prefixed(progress: Progress | None, prefix: str) -> Progress | None:
    if progress is None:
        return None
    return lambda step, done, total: progress(prefix + step, done, total)
