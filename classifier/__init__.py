"""Chinese text classifier for citizen requests: jieba words + character n-grams, TF-IDF, a
calibrated linear model. Imports nothing else of the project.

The names below load their module on first use (PEP 562): importing `classifier.text` for the
content check, or the package for a type, must not pull in scikit-learn and numpy (a second
of start-up for every `hotline` command that never classifies).

Global state: none of ours. Each model's Tokenizer owns its own rjieba.Jieba instance, so user
words added for one model never change another's tokens. jieba (the Python package) is only
used by bench/classify.py as the speed reference, and its dictionary is global there.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "classifier.dataset": ("Example", "data_hash", "read_examples", "shipped_examples"),
    "classifier.errors": ("ClassifierError", "DatasetError", "ModelNotFound", "TamperedModelError"),
    "classifier.evaluation": ("evaluate", "format_report"),
    "classifier.model": ("ModelSettings", "Prediction", "TrainedModel", "train"),
    "classifier.storage": ("load_model", "save_model"),
    "classifier.text": ("ContentProblem", "Tokenizer", "content_problem", "has_content"),
    "classifier.training": ("ensure_default_model", "train_and_save"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'classifier' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from classifier.dataset import Example, data_hash, read_examples, shipped_examples
    from classifier.errors import ClassifierError, DatasetError, ModelNotFound, TamperedModelError
    from classifier.evaluation import evaluate, format_report
    from classifier.model import ModelSettings, Prediction, TrainedModel, train
    from classifier.storage import load_model, save_model
    from classifier.text import ContentProblem, Tokenizer, content_problem, has_content
    from classifier.training import ensure_default_model, train_and_save
