"""Chinese text classifier for citizen requests (issue 3): jieba words + character n-grams,
TF-IDF, a calibrated linear model. Imports nothing else of the project.

Global state: none of ours. Each model's Tokenizer owns its own rjieba.Jieba instance, so user
words added for one model never change another's tokens. jieba (the Python package) is only
used by bench/classify.py as the speed reference, and its dictionary is global there.
"""
from classifier.dataset import Example, data_hash, read_examples, shipped_examples
from classifier.errors import ClassifierError, DatasetError, ModelNotFound, TamperedModelError
from classifier.evaluation import evaluate, format_report
from classifier.model import ModelSettings, Prediction, TrainedModel, train
from classifier.storage import load_model, save_model
from classifier.text import ContentProblem, Tokenizer, content_problem, has_content
from classifier.training import ensure_default_model, train_and_save

__all__ = [
    "ClassifierError",
    "ContentProblem",
    "DatasetError",
    "Example",
    "ModelNotFound",
    "ModelSettings",
    "Prediction",
    "TamperedModelError",
    "Tokenizer",
    "TrainedModel",
    "content_problem",
    "data_hash",
    "ensure_default_model",
    "evaluate",
    "format_report",
    "has_content",
    "load_model",
    "read_examples",
    "save_model",
    "shipped_examples",
    "train",
    "train_and_save",
]
