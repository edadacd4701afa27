"""The shipped fine-tuned second opinion, scored as the app runs it (numpy, the 4-bit changes
of classifier/data/e5_finetuned*.npz), on the report part. Runs in the project's own venv with
the embeddings extra; no torch.

    python -m research.finetuned_report fidelity [SEED]  # one shipped numpy model vs torch's table of
                                                   # the same weights (cache/finetune_part4[_sSEED].npz, finetune_e5 fold 4)
    python -m research.finetuned_report report     # `hotline classifier eval`'s figures, fast pair alone
                                                   # and with the second opinion below 0.88
    python -m research.finetuned_report agree      # out of fold (finetune_e5 fold 1-3's tables): the rule's
                                                   # ECE, and routing more of the asked ones when the two agree
    python -m research.finetuned_report seeds      # report part: the rule with the shipped weights, with
                                                   # other seeds' (finetune_e5 fold 4 SEED) and with all averaged
    python -m research.finetuned_report interval   # report part: bootstrap interval of the rule's macro-F1
    python -m research.finetuned_report ceiling [_e4 [1,2,3]]   # out of fold: the ceiling below which to ask
                                                   # and the threshold to route at, chosen by the rule written
                                                   # first; _e4: the 4-epoch fold models over their windows
    python -m research.finetuned_report keep NAME...   # cache/NAME -> research/tables/NAME (compressed)
    python -m research.finetuned_report gap 0.82   # the asked messages at that threshold, out of fold
                                                   # (seed 0's fold models) and on the report part (the three shipped)
    python -m research.finetuned_report windows 1 [_w]   # fold 1: the rule reading later windows too (finetune_e5
                                                   # windows 1 [_w]; _w: the model fine-tuned on windows)
    python -m research.finetuned_report windows-report VARIANT   # the report part, once, with the chosen variant
    python -m research.finetuned_report ceiling-report 0.88 0.82   # the report part, once: asked below the
                                                   # first, routed from the second, the three shipped models
    python -m research.finetuned_report pooled     # out of fold and the report part together: one routing
                                                   # threshold chosen on all of them (plan in EXPERIMENTS.md)
    python -m research.finetuned_report epochs 1   # fold 1 fine-tuned for 3 epochs and for 4 (finetune_e5 fold 1 0 4,
                                                   # as many steps as the shipped models had): how sure, and the rule
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

CACHE = Path(__file__).parent.parent / "cache"
TABLES = Path(__file__).parent / "tables"


def _rule(fast: np.ndarray, tuned: np.ndarray, threshold: float) -> np.ndarray:
    """The shipped rule on whole tables: below the threshold (or any ceiling for asking) the
    fast pair's and the fine-tuned probabilities averaged half and half, elsewhere the fast pair's."""
    return np.where((fast.max(1) < threshold)[:, None], (fast + tuned) / 2, fast)


def fidelity(seed: int = 0) -> None:
    """One shipped file (seed 0: e5_finetuned.npz; seed N: e5_finetuned_seedN.npz) against
    torch's table for the same weights."""
    from classifier.features import message_text
    from classifier.second_opinion import FINETUNED_FILES, FineTunedE5
    from research.experiments import study_parts

    report = study_parts()[1]
    torch_table = np.load(CACHE / (f"finetune_part4_s{seed}.npz" if seed else "finetune_part4.npz"))
    model = FineTunedE5(FINETUNED_FILES[seed:seed + 1])
    assert list(model.labels) == [str(x) for x in torch_table["labels"]]
    started = time.perf_counter()
    ours = np.array([model.read_window(message_text(e.title, e.body)) for e in report])
    took = time.perf_counter() - started
    difference = np.abs(ours - torch_table["table"])
    same = (ours.argmax(1) == torch_table["table"].argmax(1)).mean()
    print(f"{len(report)} report messages in {took:.0f} s: largest probability difference {difference.max():.4f}, "
          f"mean {difference.mean():.5f}; same top label {same:.4f}")


def report(threshold: float = 0.88) -> None:
    from classifier.dataset import SHIPPED_DATA, read_examples
    from classifier.evaluation import evaluate
    from classifier.model import train
    from classifier.second_opinion import load_second_opinion
    from classifier.text import read_user_dict
    from research.experiments import study_parts

    tune, report_part, _ = study_parts()
    model = train(list(tune) + read_examples(SHIPPED_DATA[1]), user_words=tuple(read_user_dict()))
    opinion = load_second_opinion(model.labels)
    assert opinion is not None, "pip install '.[embeddings]' first"
    for name, second in (("fast pair alone", None), ("with the fine-tuned second opinion", opinion)):
        m = evaluate(model, report_part, min_confidence=threshold, second_opinion=second)
        at = m["at_threshold"]
        print(f"{name}: macro-F1 {m['macro_f1']:.4f}, accuracy {m['accuracy']:.4f}; at {threshold}: coverage "
              f"{at['coverage']:.3f}, accuracy {at['accuracy']:.4f}; ECE {m['ece']:.3f}; asked {m['second_opinion_asked']}")
        print("  " + ", ".join(f"{p['threshold']:.2f}: {p['coverage']:.3f} / {p['accuracy']:.4f}"
                               for p in m["selective"]))


CEILINGS = (0.88, 0.90, 0.92, 0.94, 0.96, 0.98)
THRESHOLDS = np.round(np.arange(0.70, 0.995, 0.01), 2)


def _kept(name: str) -> Path:
    """A table in cache/, else the copy kept in research/tables/ (`keep`)."""
    return CACHE / name if (CACHE / name).exists() else TABLES / name


def keep(*names: str) -> None:
    """Copy these tables from cache/ to research/tables/, compressed: the out-of-fold tables
    that cost an hour of training each, kept so that a choice read from them can be read again
    on another machine."""
    TABLES.mkdir(exist_ok=True)
    for name in names:
        with np.load(CACHE / name) as saved:
            np.savez_compressed(TABLES / name, **{key: saved[key] for key in saved.files})
        print(f"research/tables/{name}: {(TABLES / name).stat().st_size / 1e3:.0f} kB")


def _fold_tables(folds: tuple[int, ...] = (1, 2, 3), suffix: str = "",
                 variant: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels, truth, the fast pair's and the fine-tuned (finetune_e5 fold N, seed 0; `suffix`
    names other runs, `_e4` for 4 epochs) probabilities on these tuning folds, each scored by
    models trained on the other two; with a `variant`, the fine-tuned ones read over the
    windows by it (finetune_e5 windows N SUFFIX)."""
    fast = _fast_tables(folds)
    parts = [np.load(_kept(f"finetune_part{k}{suffix}.npz")) for k in folds]
    tuned = [p["table"] for p in parts]
    if variant is not None:
        tuned = [_variant(t, np.load(_kept(f"finetune_part{k}{suffix}_windows.npz")), variant)
                 for t, k in zip(tuned, folds)]
    return (parts[0]["labels"], np.concatenate([p["truth"] for p in parts]),
            np.concatenate([fast[k] for k in folds]), np.concatenate(tuned))


def ceiling(suffix: str = "", folds: tuple[int, ...] = (1, 2, 3), target: float = 0.97,
            most_asked: float = 0.25) -> None:
    """Out of fold (fast pair and fine-tuned tables of folds 1-3), written before those tables
    were seen: for each ceiling, the lowest threshold on a 0.01 grid whose accuracy routed
    reaches the target; of the ceilings that ask at most a quarter of the messages, the one
    covering most at its threshold (the lower ceiling on a tie). `suffix` `_e4`: the 4-epoch
    fold models, read over their windows as the app reads them (titled mean)."""
    from sklearn.metrics import f1_score

    labels, truth, fast, tuned = _fold_tables(folds, suffix, "titled mean" if suffix else None)
    print(f"out of fold, {len(truth)} rows; at each ceiling: asked, macro-F1 / accuracy, then the lowest threshold "
          f"reaching {target} routed")
    best = None
    for c in CEILINGS:
        mixed = _rule(fast, tuned, c)
        right, top = labels[mixed.argmax(1)] == truth, mixed.max(1)
        asked = (fast.max(1) < c).mean()
        points = [(t, (top >= t).mean(), right[top >= t].mean()) for t in THRESHOLDS if (top >= t).any()]
        chosen = next(((t, cov, acc) for t, cov, acc in points if acc >= target), None)
        print(f"  ceiling {c:.2f}: asked {asked:.3f}, {f1_score(truth, labels[mixed.argmax(1)], average='macro'):.4f} / "
              f"{right.mean():.4f}; " + (f"threshold {chosen[0]:.2f}: {chosen[1]:.3f} / {chosen[2]:.4f}"
                                         if chosen else "never reaches it"))
        print("    " + ", ".join(f"{t:.2f}: {cov:.3f}/{acc:.4f}" for t, cov, acc in points if t >= 0.78))
        if chosen and asked <= most_asked and (best is None or chosen[1] > best[2]):
            best = (c, *chosen)
    print("chosen: " + (f"ask below {best[0]:.2f}, route at {best[1]:.2f} ({best[2]:.3f} / {best[3]:.4f} out of fold)"
                        if best else "none"))


def gap(threshold: float = 0.82, asked_below: float = 0.88) -> None:
    """Why a threshold chosen out of fold does not carry over: the rule (asked below 0.88, routed
    from the threshold) out of fold and on the report part; of the messages asked, how many the
    average lifts to the threshold and how many of those are right; and how sure the fine-tuned
    models are on their own."""
    from classifier.features import message_text
    from classifier.second_opinion import FineTunedE5
    from research.experiments import study_parts

    labels, truth, fast, tuned = _fold_tables()
    r_labels, r_truth, r_fast, _ = _report_tables()
    asked = np.flatnonzero(r_fast.max(1) < asked_below)
    report_part = study_parts()[1]
    shipped = FineTunedE5()
    r_tuned = np.zeros_like(r_fast)
    r_tuned[asked] = [shipped.read_window(message_text(report_part[i].title, report_part[i].body)) for i in asked]
    for name, f, t, y, lab in (("out of fold, seed 0's fold models", fast, tuned, truth, labels),
                               ("report part, the three shipped", r_fast, r_tuned, r_truth, r_labels)):
        rows = np.flatnonzero(f.max(1) < asked_below)
        mixed = (f[rows] + t[rows]) / 2
        right = lab[mixed.argmax(1)] == y[rows]
        lifted = mixed.max(1) >= threshold
        e5_sure = (t[rows].max(1) >= 0.88).mean()
        rule = _rule(f, t, asked_below)
        routed = np.where(f.max(1) < asked_below, rule.max(1) >= threshold, True)
        all_right = lab[rule.argmax(1)] == y
        print(f"{name}: the rule covers {routed.mean():.3f} at {all_right[routed].mean():.4f}")
        print(f"{name}: asked {len(rows)} ({len(rows) / len(y):.3f}); e5 at 0.88 or more on {e5_sure:.3f} of them; "
              f"the average reaches {threshold} on {lifted.mean():.3f}, right on {right[lifted].mean():.4f} of those; "
              f"right on {right.mean():.4f} of all asked")


def epochs(number: int = 1, threshold: float = 0.82, asked_below: float = 0.88) -> None:
    """Is the fold models' lack of sureness their fewer steps? One fold's fine-tuned table after
    3 epochs (879 steps) and after 4 (about the shipped models' 1,193), side by side."""
    from sklearn.metrics import f1_score

    fast = _fast_tables((number,))[number]
    asked = fast.max(1) < asked_below
    for name in (f"finetune_part{number}.npz", f"finetune_part{number}_e4.npz"):
        saved = np.load(CACHE / name)
        labels, tuned, truth = saved["labels"], saved["table"], saved["truth"]
        rule = _rule(fast, tuned, asked_below)
        right = labels[rule.argmax(1)] == truth
        line = []
        for t in (0.88, threshold):
            routed = np.where(asked, rule.max(1) >= t, True)
            line.append(f"at {t} {routed.mean():.3f} / {right[routed].mean():.4f}")
        print(f"{name}: alone {f1_score(truth, labels[tuned.argmax(1)], average='macro'):.4f} / "
              f"{(labels[tuned.argmax(1)] == truth).mean():.4f}, sure (>= 0.88) on {(tuned.max(1) >= 0.88).mean():.3f} "
              f"of all and {(tuned[asked].max(1) >= 0.88).mean():.3f} of the asked; the rule "
              f"{f1_score(truth, labels[rule.argmax(1)], average='macro'):.4f} / {right.mean():.4f}, " + ", ".join(line))


def _fast_tables(folds: tuple[int, ...] = (1, 2, 3)) -> dict[int, np.ndarray]:
    """The fast pair's probabilities on these tuning folds, each trained on the other two (cached)."""
    from classifier.features import message_text
    from classifier.model import train
    from classifier.text import read_user_dict
    from research.experiments import study_parts

    tables = {}
    for number, (train_part, test_part) in enumerate(study_parts()[2][:3], 1):
        if number not in folds:
            continue
        path = _kept(f"fastpair_part{number}.npz")
        if not path.exists():
            path = CACHE / path.name
            model = train(train_part, user_words=tuple(read_user_dict()))
            table = model.probabilities([message_text(e.title, e.body) for e in test_part])
            np.savez(path, labels=np.array(model.labels), table=table)
        saved = np.load(path)
        tables[number] = saved["table"][:, np.argsort(saved["labels"])]   # columns in sorted label order
    return tables


def agree(threshold: float = 0.88) -> None:
    """Over the folds whose fine-tuned table exists (fold 1 alone first, to fix a rule before
    folds 2 and 3 are seen)."""
    from sklearn.metrics import f1_score

    from classifier.selective import expected_calibration_error

    folds = [k for k in (1, 2, 3) if (CACHE / f"finetune_part{k}.npz").exists()]
    print(f"folds {folds}")
    labels, truth, fast, tuned = _fold_tables(tuple(folds))
    asked = fast.max(1) < threshold
    mixed = _rule(fast, tuned, threshold)
    for name, table in (("fast pair", fast), ("rule: averaged at 0.5 below 0.88", mixed)):
        guess = labels[table.argmax(1)]
        right, routed = guess == truth, table.max(1) >= threshold
        print(f"{name}: macro-F1 {f1_score(truth, guess, average='macro'):.4f}, accuracy {right.mean():.4f}, "
              f"at {threshold} {routed.mean():.3f} / {right[routed].mean():.4f}, "
              f"ECE {expected_calibration_error(table.max(1), right):.3f}")
    guess = labels[mixed.argmax(1)]
    right = guess == truth
    same = fast.argmax(1) == tuned.argmax(1)
    print(f"asked {asked.mean():.3f}; of those the two agree on {same[asked].mean():.3f}")
    for floor in (0.6, 0.65, 0.7, 0.75, 0.8, 0.85):
        routed = (mixed.max(1) >= threshold) | (asked & same & (fast.max(1) >= floor))
        print(f"  also route the asked ones both agree on with fast >= {floor}: "
              f"{routed.mean():.3f} / {right[routed].mean():.4f}")


def _report_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels, truth, the fast pair's and the first shipped numpy model's (seed 0) probabilities on the report
    part (the fast pair trained on the tuning part + titles-only, as in `report`); cached."""
    path = CACHE / "report_tables.npz"
    if not path.exists():
        from classifier.dataset import SHIPPED_DATA, read_examples
        from classifier.features import message_text
        from classifier.model import train
        from classifier.second_opinion import FINETUNED_FILES, FineTunedE5
        from classifier.text import read_user_dict
        from research.experiments import study_parts

        tune, report_part, _ = study_parts()
        texts = [message_text(e.title, e.body) for e in report_part]
        model = train(list(tune) + read_examples(SHIPPED_DATA[1]), user_words=tuple(read_user_dict()))
        shipped = FineTunedE5(FINETUNED_FILES[:1])
        assert sorted(model.labels) == list(model.labels) == list(shipped.labels)
        np.savez(path, labels=np.array(model.labels), truth=np.array([e.label for e in report_part]),
                 fast=model.probabilities(texts), shipped=np.array([shipped.read_window(t) for t in texts]))
    saved = np.load(path)
    return saved["labels"], saved["truth"], saved["fast"], saved["shipped"]


def seeds(threshold: float = 0.88) -> None:
    """The report part: the fast pair; each seed's fine-tuned model alone and in the rule (seed
    0 is the shipped file as the app runs it, other seeds torch's tables from `finetune_e5 fold
    4 SEED`); every seed's probabilities averaged; and the soup of seeds 0 and 1 when made."""
    from sklearn.metrics import f1_score

    from classifier.selective import expected_calibration_error

    labels, truth, fast, shipped = _report_tables()
    opinions = [("seed 0", shipped)]
    for path in sorted(CACHE.glob("finetune_part4_s[0-9]*.npz")):
        if path.name.endswith("_weights.npz"):
            continue
        other = np.load(path)
        assert (other["labels"] == labels).all() and (other["truth"] == truth).all()
        opinions.append((f"seed {path.stem.rsplit('_s', 1)[1]}", other["table"]))
    if len(opinions) > 1:
        opinions.append((f"seeds {'+'.join(name.split()[1] for name, _ in opinions)} averaged",
                         np.mean([table for _, table in opinions], axis=0)))
    if (CACHE / "finetune_part4_soup.npz").exists():   # finetune_e5 soup: one model, the weights averaged
        opinions.append(("soup of 0 and 1", np.load(CACHE / "finetune_part4_soup.npz")["table"]))
    rows = [("fast pair", fast)] + [(f"{name} alone", table) for name, table in opinions]
    rows += [(f"rule with {name}", _rule(fast, table, threshold)) for name, table in opinions]
    print(f"report part ({len(truth)} rows), asked below {threshold}: {(fast.max(1) < threshold).mean():.3f}")
    for name, table in rows:
        guess = labels[table.argmax(1)]
        right, routed = guess == truth, table.max(1) >= threshold
        accuracy_routed = f"{right[routed].mean():.4f}" if routed.any() else "-"
        print(f"  {name:28s} macro-F1 {f1_score(truth, guess, average='macro'):.4f}, accuracy {right.mean():.4f}; "
              f"at {threshold} {routed.mean():.3f} / {accuracy_routed}; "
              f"ECE {expected_calibration_error(table.max(1), right):.3f}")


def interval(threshold: float = 0.88, draws: int = 1000) -> None:
    """How far the report part's macro-F1 could move by the draw of its rows alone: the shipped
    rule's and its gain over the fast pair, over the same resampled rows (bootstrap, seed 0)."""
    from sklearn.metrics import f1_score

    labels, truth, fast, shipped = _report_tables()
    y = np.searchsorted(labels, truth)
    rule, alone = _rule(fast, shipped, threshold).argmax(1), fast.argmax(1)
    generator = np.random.RandomState(0)
    scores, gains = [], []
    for _ in range(draws):
        rows = generator.randint(0, len(y), len(y))
        score = f1_score(y[rows], rule[rows], average="macro")
        scores.append(score)
        gains.append(score - f1_score(y[rows], alone[rows], average="macro"))
    low, high = np.percentile(scores, [2.5, 97.5])
    g_low, g_mid, g_high = np.percentile(gains, [2.5, 50, 97.5])
    print(f"{draws} resamples of {len(y)} rows: the rule's macro-F1 {low:.4f} to {high:.4f} (95%); its gain over the "
          f"fast pair {g_low:+.4f} to {g_high:+.4f} (median {g_mid:+.4f}), above 0 in {np.mean(np.array(gains) > 0):.1%}")


def _variant(first: np.ndarray, saved, variant: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Each row's opinion from its windows' tables (finetune_e5 windows) by a variant (research/windows.py)."""
    from classifier.text_windows import LATER_WINDOWS
    from research.windows import combine

    kind, how = variant.split(" ", 1)
    tails = np.stack([saved[f"{kind}{k + 1}"] for k in range(LATER_WINDOWS)], axis=1)   # rows, windows, labels
    return np.array([combine(row, [t for t in tail if not np.isnan(t).any()], how) for row, tail in zip(first, tails)])


def _rule_figures(labels: np.ndarray, truth: np.ndarray, fast: np.ndarray, opinion: np.ndarray,
                  threshold: float) -> tuple[float, float, float, float, float]:
    """The rule with this opinion: macro-F1, accuracy, right of the asked, coverage and accuracy at the threshold."""
    from sklearn.metrics import f1_score

    mixed = _rule(fast, opinion, threshold)
    guess = labels[mixed.argmax(1)]
    right, routed, asked = guess == truth, mixed.max(1) >= threshold, fast.max(1) < threshold
    return (f1_score(truth, guess, average="macro"), right.mean(), right[asked].mean(), routed.mean(),
            right[routed].mean())


def windows(number: int = 1, suffix: str = "", threshold: float = 0.88) -> None:
    """Fold N: the rule with the first window alone and with each variant of later windows
    (finetune_e5 windows N [SUFFIX]: `_w` for the model fine-tuned on windows); the variant
    right most often on the asked rows is chosen."""
    from classifier.features import message_text
    from classifier.text_windows import later_windows
    from research.experiments import study_parts
    from research.windows import VARIANTS

    saved = np.load(CACHE / f"finetune_part{number}{suffix}_windows.npz")
    part = np.load(CACHE / f"finetune_part{number}{suffix}.npz")
    labels, truth, fast = part["labels"], part["truth"], _fast_tables((number,))[number]
    first = part["table"]
    rows = study_parts()[2][number - 1][1]
    asked = fast.max(1) < threshold
    longer = np.array([bool(later_windows(message_text(e.title, e.body), False)) for e in rows])
    print(f"fold {number}: {len(truth)} rows, asked {asked.sum()} ({asked.mean():.1%}), of those with later "
          f"windows {longer[asked].mean():.1%} (all rows {longer.mean():.1%})")
    print("opinion: alone right / rule macro-F1, accuracy, right of the asked, at the threshold coverage / accuracy")
    best = None
    for variant in ("first window", *VARIANTS):
        opinion = first if variant == "first window" else _variant(first, saved, variant)
        f1, accuracy, asked_right, coverage, routed = _rule_figures(labels, truth, fast, opinion, threshold)
        alone = (labels[opinion.argmax(1)] == truth).mean()
        print(f"  {variant:18} {alone:.4f} / {f1:.4f}, {accuracy:.4f}, {asked_right:.4f}, "
              f"{coverage:.3f} / {routed:.4f}")
        if variant != "first window" and (best is None or asked_right > best[1]):
            best = (variant, asked_right)
    print(f"chosen: {best[0]}")


class Windowed:
    """An opinion that also reads the text's later windows, by a variant (research/windows.py);
    `opinion.read_window` reads one window, as the shipped models did before the windows."""

    def __init__(self, opinion, variant: str) -> None:  # type: ignore[no-untyped-def]
        self.opinion, (self.kind, self.how) = opinion, variant.split(" ", 1)
        self.labels = opinion.labels

    def __call__(self, text: str) -> np.ndarray:
        from classifier.text_windows import later_windows
        from research.windows import combine

        return combine(self.opinion.read_window(text),
                       [self.opinion.read_window(w) for w in later_windows(text, self.kind == "titled")], self.how)


def windows_report(variant: str, threshold: float = 0.88) -> None:
    """The report part, once: the three shipped models as the app runs them, on the first
    window alone and with the variant chosen on fold 1; the rule's figures, then the app's
    `evaluate` with the windowed opinion, and what an asked message costs."""
    from classifier.dataset import SHIPPED_DATA, read_examples
    from classifier.evaluation import evaluate
    from classifier.features import message_text
    from classifier.model import train
    from classifier.second_opinion import FineTunedE5, SecondOpinion
    from classifier.text import read_user_dict
    from classifier.text_windows import later_windows
    from research.experiments import study_parts

    tune, report_part, _ = study_parts()
    texts = [message_text(e.title, e.body) for e in report_part]
    model = train(list(tune) + read_examples(SHIPPED_DATA[1]), user_words=tuple(read_user_dict()))
    shipped = FineTunedE5()
    assert list(model.labels) == list(shipped.labels)
    labels, truth = np.array(model.labels), np.array([e.label for e in report_part])
    fast = model.probabilities(texts)
    asked = np.flatnonzero(fast.max(1) < threshold)
    windowed = Windowed(shipped, variant)
    first, both, seconds = fast.copy(), fast.copy(), []
    for i in asked:
        first[i] = shipped.read_window(texts[i])
        started = time.perf_counter()
        both[i] = windowed(texts[i])
        seconds.append(time.perf_counter() - started)
    longer = np.mean([bool(later_windows(texts[i], False)) for i in asked])
    print(f"report part: {len(texts)} rows, asked {len(asked)}, of those with later windows {longer:.1%}")
    print("opinion: rule macro-F1, accuracy, right of the asked, at the threshold coverage / accuracy")
    for name, opinion in (("first window", first), (variant, both)):
        f1, accuracy, asked_right, coverage, routed = _rule_figures(labels, truth, fast, opinion, threshold)
        print(f"  {name:18} {f1:.4f}, {accuracy:.4f}, {asked_right:.4f}, {coverage:.3f} / {routed:.4f}")
    m = evaluate(model, report_part, min_confidence=threshold, second_opinion=SecondOpinion(windowed, shipped.labels))
    print(f"evaluate with the windowed opinion: macro-F1 {m['macro_f1']:.4f}, accuracy {m['accuracy']:.4f}, at "
          f"{threshold} {m['at_threshold']['coverage']:.3f} / {m['at_threshold']['accuracy']:.4f}, ECE {m['ece']:.3f}")
    print("  " + ", ".join(f"{p['threshold']:.2f}: {p['coverage']:.3f} / {p['accuracy']:.4f}" for p in m["selective"]))
    print(f"an asked message with its windows, three models, one thread: p50 {np.percentile(seconds, 50) * 1000:.0f} ms, "
          f"p99 {np.percentile(seconds, 99) * 1000:.0f} ms, mean {np.mean(seconds) * 1000:.0f} ms")



class _Recorded:
    """A second opinion that keeps each revised top answer, so that the rule's confidence at
    another threshold than the asking one can be read off the same `evaluate` run."""

    def __init__(self, opinion) -> None:  # type: ignore[no-untyped-def]
        self.opinion, self.tops = opinion, {}

    def revise(self, text, predictions, k=3):  # type: ignore[no-untyped-def]
        revised = self.opinion.revise(text, predictions, k)
        self.tops[text] = revised[0]
        return revised


def ceiling_report(ceiling: float = 0.88, threshold: float = 0.82) -> None:
    """The report part, once: the three shipped models as the app runs them (windows, mapped
    weights), asked below `ceiling`, routed from `threshold`, through `evaluate` (asking at
    the ceiling); the figures at the threshold read from the same run's answers, checked
    against evaluate's own at the ceiling."""
    from classifier.selective import selective_curve

    m, confidence, correct = _report_rule(ceiling)
    [again] = selective_curve(confidence, correct, (ceiling,))
    [point] = selective_curve(confidence, correct, (threshold,))
    print(f"report part, {len(correct)} rows, asked below {ceiling} ({m['second_opinion_asked']}): macro-F1 "
          f"{m['macro_f1']:.4f}, accuracy {m['accuracy']:.4f}; routed at {ceiling}: {again['coverage']:.3f} / "
          f"{again['accuracy']:.4f}; **routed at {threshold}: {point['coverage']:.3f} / {point['accuracy']:.4f}**")
    print("  " + ", ".join(f"{p['threshold']:.2f}: {p['coverage']:.3f} / {p['accuracy']:.4f}"
                           for p in selective_curve(confidence, correct, tuple(THRESHOLDS)) if p["threshold"] >= 0.78))


def _report_rule(ceiling: float = 0.88) -> tuple[dict, np.ndarray, list[bool]]:
    """`evaluate`'s figures on the report part with the three shipped models asked below the
    ceiling, and each row's confidence and rightness under the rule, checked against
    evaluate's own figures at the ceiling."""
    from classifier.dataset import SHIPPED_DATA, read_examples
    from classifier.evaluation import evaluate, texts_of
    from classifier.model import train
    from classifier.second_opinion import load_second_opinion
    from classifier.selective import selective_curve
    from classifier.text import read_user_dict
    from research.experiments import study_parts

    tune, report_part, _ = study_parts()
    model = train(list(tune) + read_examples(SHIPPED_DATA[1]), user_words=tuple(read_user_dict()))
    opinion = load_second_opinion(model.labels, cache=CACHE / "e5")
    assert opinion is not None, "pip install '.[embeddings]' first"
    recorded = _Recorded(opinion)
    m = evaluate(model, report_part, min_confidence=ceiling, second_opinion=recorded)  # type: ignore[arg-type]
    texts, truth = texts_of(report_part), [e.label for e in report_part]
    table = model.probabilities(texts)
    guess = [model.labels[i] for i in table.argmax(1)]
    confidence = table.max(1)
    for row, text in enumerate(texts):
        if confidence[row] < ceiling:
            guess[row], confidence[row] = recorded.tops[text].label, recorded.tops[text].probability
    correct = [g == t for g, t in zip(guess, truth)]
    [again] = selective_curve(confidence, correct, (ceiling,))
    assert (again["coverage"], again["accuracy"]) == (m["at_threshold"]["coverage"], m["at_threshold"]["accuracy"])
    return m, confidence, correct


def pooled(ceiling: float = 0.88, target_accuracy: float = 0.97, target_coverage: float = 0.85,
           draws: int = 2000) -> None:
    """The plan of EXPERIMENTS.md's "One threshold chosen on every scored row": the 4-epoch fold
    models' out-of-fold rows and the report part's rows (the three shipped models) together,
    asked below the ceiling; the lowest threshold on 0.80-0.90 whose pooled accuracy routed
    reaches the target, kept only if it covers the target. Beside each threshold, how often
    a resample the size of the report part meets both targets (information only)."""
    labels, truth, fast, tuned = _fold_tables((1, 2, 3), "_e4", "titled mean")
    mixed = _rule(fast, tuned, ceiling)
    fold_top, fold_right = mixed.max(1), labels[mixed.argmax(1)] == truth
    _, report_top, report_right = _report_rule(ceiling)
    parts = {"out of fold": (fold_top, fold_right), "report part": (np.asarray(report_top), np.asarray(report_right)),
             "pooled": (np.concatenate([fold_top, report_top]), np.concatenate([fold_right, report_right]))}
    top, right = parts["pooled"]
    rng = np.random.default_rng(0)
    samples = rng.integers(0, len(top), size=(draws, len(report_right)))
    chosen = None
    print(f"asked below {ceiling}; rows: " + ", ".join(f"{name} {len(t)}" for name, (t, _) in parts.items()))
    for t in (x for x in THRESHOLDS if 0.80 <= x <= 0.90):
        figures = {name: ((p >= t).mean(), r[p >= t].mean()) for name, (p, r) in parts.items()}
        routed = top[samples] >= t
        passing = ((routed.mean(1) >= target_coverage)
                   & ((right[samples] & routed).sum(1) >= target_accuracy * routed.sum(1))).mean()
        print(f"  {t:.2f}: " + "; ".join(f"{name} {c:.3f} / {a:.4f}" for name, (c, a) in figures.items())
              + f"; both targets in {passing:.1%} of resamples")
        if chosen is None and figures["pooled"][1] >= target_accuracy:
            chosen = (t, *figures["pooled"])
    if chosen is None:
        print("chosen: none reaches the accuracy target; nothing changes")
    else:
        verdict = "ships" if chosen[1] >= target_coverage else "covers too little; nothing changes"
        print(f"chosen: {chosen[0]:.2f}, pooled {chosen[1]:.3f} / {chosen[2]:.4f}: {verdict}")

if __name__ == "__main__":
    {"fidelity": lambda: fidelity(*map(int, sys.argv[2:])), "report": report, "agree": agree, "seeds": seeds, "interval": interval,
     "ceiling": lambda: ceiling(*sys.argv[2:3], *(tuple(int(k) for k in arg.split(",")) for arg in sys.argv[3:4])),
     "keep": lambda: keep(*sys.argv[2:]), "gap": lambda: gap(*map(float, sys.argv[2:])),
     "epochs": lambda: epochs(*map(int, sys.argv[2:3])), "windows": lambda: windows(int(sys.argv[2]), *sys.argv[3:4]),
     "windows-report": lambda: windows_report(" ".join(sys.argv[2:])),
     "ceiling-report": lambda: ceiling_report(*map(float, sys.argv[2:])),
     "pooled": lambda: pooled(*map(float, sys.argv[2:3]))}[sys.argv[1]]()
