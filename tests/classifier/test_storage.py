from __future__ import annotations

import json
import time
from pathlib import Path

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


KEY = "the-hotline-secret-key"


class _Planted:
    """What an attacker's pickle does while it is loaded: here, leave a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def _plant(folder: Path, marker: Path) -> Path:
    """A crafted model file dropped into the folder with its own, matching sidecar."""
    import hashlib
    import pickle

    folder.mkdir(parents=True, exist_ok=True)
    payload = pickle.dumps(_Planted(marker))
    path = folder / "model-29991231235959.pkl"
    path.write_bytes(payload)
    path.with_suffix(".json").write_text(json.dumps({"model_file": path.name,
                                                     "sha256": hashlib.sha256(payload).hexdigest()}))
    return path


def test_a_planted_pickle_with_its_own_sidecar_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = _plant(tmp_path / "models", marker)

    with pytest.raises(TamperedModelError) as caught:
        load_model(tmp_path / "models", key=KEY)
    assert caught.value.path == path and "signature" in str(caught.value)
    assert not marker.exists()


def test_a_planted_pickle_with_a_forged_signature_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = _plant(tmp_path / "models", marker)
    sidecar = json.loads(path.with_suffix(".json").read_text())
    sidecar["signature"] = "0" * 64
    path.with_suffix(".json").write_text(json.dumps(sidecar))

    with pytest.raises(TamperedModelError):
        load_model(tmp_path / "models", key=KEY)
    assert not marker.exists()


def test_a_model_signed_with_the_key_loads_and_another_key_refuses_it(tmp_path: Path, small_model) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "models"
    path = save_model(small_model, folder, data_hash="signed", metrics={}, key=KEY)
    assert len(read_sidecar(path)["signature"]) == 64
    assert load_model(folder, key=KEY).labels == small_model.labels
    with pytest.raises(TamperedModelError):
        load_model(folder, key="another-key")
    # Renaming a signed file does not carry its signature over: the name is signed too.
    renamed = path.with_name("model-29991231235959.pkl")
    path.rename(renamed)
    path.with_suffix(".json").rename(renamed.with_suffix(".json"))
    with pytest.raises(TamperedModelError):
        load_model(folder, key=KEY)
