"""A small model trained once per run on a slice of the shipped data (a few seconds)."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from classifier.dataset import SHIPPED_DATA, Example, read_examples
from classifier.model import TrainedModel
from classifier.storage import save_model
from classifier.training import holdout_split


@pytest.fixture(scope="session")
def slices() -> tuple[list[Example], list[Example]]:
    """(train, held out): 1,500 dev rows, split by duplicate group."""
    dev = read_examples(SHIPPED_DATA[0])
    random.Random(7).shuffle(dev)  # dev.csv is ordered by label
    return holdout_split(dev[:1500], fraction=0.2, seed=7)


# small_model (trained on slices()[0]) comes from tests/conftest.py, shared with the routing tests.


@pytest.fixture
def model_dir(tmp_path: Path, small_model: TrainedModel) -> Path:
    folder = tmp_path / "models"
    save_model(small_model, folder, data_hash="test", metrics={})
    return folder
