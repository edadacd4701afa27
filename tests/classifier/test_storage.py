from __future__ import annotations

import json
import time

import pytest

from classifier.errors import ModelNotFound, TamperedModelError
from classifier.storage import load_model, model_files, read_sidecar, save_model


def test_saved_model_loads_back_quickly_with_its_record(model_dir, small_model):
    [path] = model_files(model_dir)
    record = read_sidecar(path)
    assert record["labels"] == list(small_model.labels)
    assert record["data_hash"] == "test" and len(record["sha256"]) == 64
    assert "scikit-learn" in record["versions"]

    started = time.perf_counter()
    model = load_model(model_dir)
    assert time.perf_counter() - started < 2.0
    assert model.predict("学校食堂饭菜不卫生") == small_model.predict("学校食堂饭菜不卫生")


def test_tampered_model_file_is_refused_before_unpickling(model_dir):
    [path] = model_files(model_dir)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(TamperedModelError) as caught:
        load_model(model_dir)
    assert caught.value.path == path
    assert str(path) in str(caught.value)


def test_model_without_its_sidecar_is_refused(model_dir):
    [path] = model_files(model_dir)
    path.with_suffix(".json").write_text(json.dumps({"sha256": "0" * 64}))

    with pytest.raises(TamperedModelError):
        load_model(model_dir)


def test_newest_model_is_loaded_and_names_cannot_leave_the_folder(model_dir, small_model, tmp_path):
    newer = save_model(small_model, model_dir, data_hash="newer", metrics={})
    assert model_files(model_dir)[-1] == newer

    with pytest.raises(ModelNotFound):
        load_model(model_dir, name="../models/" + newer.name)
    assert load_model(model_dir, name=newer.name).labels == small_model.labels


def test_empty_folder_has_no_model(tmp_path):
    with pytest.raises(ModelNotFound):
        load_model(tmp_path / "nothing-here")
