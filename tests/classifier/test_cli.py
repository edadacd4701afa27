from __future__ import annotations

import csv
import json

from click.testing import CliRunner

from classifier.cli import ProgressPrinter, build_group, cli


def _csv(tmp_path, examples):
    path = tmp_path / "eval.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "body", "label"])
        writer.writerows([e.title, e.body, e.label] for e in examples)
    return path


def test_eval_json_has_accuracy_and_macro_f1(tmp_path, model_dir, slices):
    data = _csv(tmp_path, slices[1][:80])

    result = CliRunner().invoke(cli, ["eval", "--data", str(data), "--model-dir", str(model_dir), "--json"])

    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert 0.6 < metrics["accuracy"] <= 1 and 0.5 < metrics["macro_f1"] <= 1
    assert metrics["examples"] == 80


def test_eval_prints_table_and_confusion_matrix(tmp_path, model_dir, slices):
    data = _csv(tmp_path, slices[1][:80])

    result = CliRunner().invoke(cli, ["eval", "--data", str(data), "--model-dir", str(model_dir)])

    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.stdout and "confusion matrix" in result.stdout
    assert "城乡建设" in result.stdout


def test_eval_of_a_file_without_labels_says_why(tmp_path, model_dir):
    data = tmp_path / "bad.csv"
    data.write_text("title,body\n路灯坏了,修一下\n", encoding="utf-8")

    result = CliRunner().invoke(cli, ["eval", "--data", str(data), "--model-dir", str(model_dir)])

    assert result.exit_code == 1
    assert "no 'label' column" in result.output


def test_predict_shows_top_three_with_the_unit_each_routes_to(model_dir):
    units = {"教育文体": "市教育局"}
    group = build_group(unit_for_label=units.get)

    result = CliRunner().invoke(group, ["predict", "学校强制学生购买教辅资料", "--model-dir", str(model_dir)])

    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("1. 教育文体") and lines[0].endswith("-> 市教育局")


def test_predict_warns_when_text_has_no_content(model_dir):
    result = CliRunner().invoke(cli, ["predict", "😀😀😀", "--model-dir", str(model_dir)])

    assert result.exit_code == 0
    assert "manual triage" in result.stderr


def test_progress_in_a_pipe_says_when_a_step_starts_each_quarter_and_the_end(capsys):
    show = ProgressPrinter()

    show("fitting", 0, 1)
    for done in range(5, 101, 5):
        show("tokenising", done, 100)
    show("fitting", 1, 1)

    lines = capsys.readouterr().err.splitlines()
    assert lines == ["fitting 0/1", "tokenising 5/100", "tokenising 25/100", "tokenising 50/100",
                     "tokenising 75/100", "tokenising 100/100", "fitting 1/1"]
