"""Third sweep (scratch): combinations of the small second-sweep gains, and a different model kind.

    python -m research.experiments_third combos      # project venv: SVM variants, saves fold probabilities
    TORCH_VENV/bin/python -m research.experiments_third neural    # fastText-style model (needs torch)
    TORCH_VENV/bin/python -m research.experiments_third cnn       # small char CNN (needs torch)
    TORCH_VENV/bin/python -m research.experiments_third inner fasttext 3,0.05,32   # how settings were picked
    TORCH_VENV/bin/python -m research.experiments_third inner cnn 10
    TORCH_VENV/bin/python -m research.experiments_third latency   # speed of both neural models
    (run from the repository root; TORCH_VENV: a venv with torch, PYTHONPATH set to the root; `neural` and `cnn` read /tmp/third/ written by `combos`.
    THIRD_TAX_NN=1 also trains fastText with the taxonomy rows.)

Same 6 tuning folds as `python -m research.experiments more` (3-fold GroupKFold on the tuning
part, original groups and groups renumbered with seed 1). The report part is never read here
except by `report NAME`, which is only to be run for a variant that passed the pre-set bar
(> +0.003 mean macro-F1 over the chosen model on the 6 folds, positive on >= 5 of 6).
Single core: run under `nice -n 10` with OMP/OPENBLAS/MKL_NUM_THREADS=1.
Results are in EXPERIMENTS.md ("Third sweep").
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from classifier.dataset import SHIPPED_DATA, Example, read_examples
from research.experiments import macro_f1_offsets, report_split, score, taxonomy, tuning_folds
from classifier.features import FeatureSettings, Features, message_text
from classifier.linear import CalibratedLinearSVC
from classifier.model import texts_of
from classifier.text import Tokenizer, read_user_dict

OUT = Path("/tmp/third")


def taxonomy_rows(labels: set[str]) -> list[Example]:
    """One row per distinct (level1, level2, level3) under a message class: body "level2 level3"."""
    return [Example(title="", body=f"{l2} {l3}", label=l1) for l1, l2, l3 in sorted(taxonomy()) if l1 in labels]


def folds_with_index() -> tuple[list[Example], list[Example], list[tuple[np.ndarray, np.ndarray]]]:
    """The 6 folds of `more`, as positions in the tuning part (checked against tuning_folds)."""
    tune_part, _ = report_split()
    extra = read_examples(SHIPPED_DATA[1])
    folds = tuning_folds(tune_part, extra) + tuning_folds(tune_part, extra, seed=1)
    position = {id(e): i for i, e in enumerate(tune_part)}
    index = []
    for train_part, test_part in folds:
        test = np.array([position[id(e)] for e in test_part])
        train = np.array([position[id(e)] for e in train_part[: len(train_part) - len(extra)]])
        assert len(set(test) | set(train)) == len(tune_part)
        index.append((train, test))
    return tune_part, extra, index


def combos() -> None:
    tune_part, extra, index = folds_with_index()
    taxonomy = taxonomy_rows({e.label for e in tune_part})
    print(f"taxonomy rows: {len(taxonomy)}", file=sys.stderr)
    words = read_user_dict()
    OUT.mkdir(exist_ok=True)
    results: dict[str, list[tuple[float, float]]] = {}
    for k, (train_index, test_index) in enumerate(index):
        started = time.perf_counter()
        test_part = [tune_part[i] for i in test_index]
        truth = [e.label for e in test_part]
        plain = [tune_part[i] for i in train_index] + extra
        guesses, probas = {}, {}
        for name, train_part in (("chosen", plain), ("tax", plain + taxonomy)):
            y = np.array([e.label for e in train_part])
            features = Features(Tokenizer(words), FeatureSettings())
            x_train = features.fit_transform(texts_of(train_part))
            x_test = features.transform(texts_of(test_part))
            base = CalibratedLinearSVC().fit(x_train, y)
            classes = base.classes_
            probas[name] = base.predict_proba(x_test)
            guesses[name] = base.predict(x_test)
            if name == "tax":
                # Offsets from inner out-of-fold scores of this training fold only (as in `more`).
                held_out = cross_val_predict(LinearSVC(class_weight="balanced"), x_train, y, method="decision_function",
                                             cv=StratifiedKFold(3, shuffle=True, random_state=0))
                offsets = macro_f1_offsets(held_out, np.searchsorted(classes, y))
                guesses["tax + offsets"] = classes[(base.decision_function(x_test) + offsets).argmax(axis=1)]
                log_features = Features(Tokenizer(words), FeatureSettings(sublinear_tf=True))
                log_train = log_features.fit_transform(texts_of(train_part))
                log_test = log_features.transform(texts_of(test_part))
                log_svm = CalibratedLinearSVC().fit(log_train, y)
                probas["tax + logtf"] = (probas["tax"] + log_svm.predict_proba(log_test)) / 2
                guesses["tax + logtf"] = classes[probas["tax + logtf"].argmax(axis=1)]
                print(f"fold {k}: offsets {np.round(offsets, 3).tolist()}", file=sys.stderr)
        for name, guess in guesses.items():
            results.setdefault(name, []).append(score(truth, guess))
        np.savez(OUT / f"svm_fold{k}.npz", classes=classes, train_index=train_index, test_index=test_index,
                 truth=np.array(truth), **{name.replace(" ", "_").replace("+", "p"): p for name, p in probas.items()})
        print(f"fold {k} done in {time.perf_counter() - started:.0f} s: "
              + ", ".join(f"{n} {r[-1][0]:.4f}" for n, r in results.items()), file=sys.stderr, flush=True)
    print_table(results)


def print_table(results: dict[str, list[tuple[float, float]]], reference: str = "chosen") -> None:
    base = np.array([r[0] for r in results[reference]])
    for name, rows in results.items():
        f1, accuracy = np.mean(rows, axis=0)
        gains = np.array([r[0] for r in rows]) - base
        print(f"| {name} | {f1:.4f} | {accuracy:.4f} | {' '.join(f'{g:+.4f}' for g in gains)} "
              f"(mean {gains.mean():+.4f}, {int((gains > 0).sum())}/6 positive) |", flush=True)


# --------------------------------------------------------------------------------------------
# fastText-style model: EmbeddingBag (mean) over hashed word 1-2 grams and char 1-3 grams,
# one linear layer to the 7 classes, trained from scratch. Needs torch (/work/torchenv).

BUCKETS = 1 << 20
DIM = 64
_P1, _P2 = 1_000_003, 998_244_353


def _stable_hash(token: str) -> int:
    # FNV-1a 32-bit over UTF-8: stable across processes (Python's hash() is salted).
    h = 2166136261
    for b in token.encode("utf-8"):
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


class Hasher:
    """Message text -> int64 ids of its word 1-2 grams and char 1-3 grams (hashed into BUCKETS)."""

    def __init__(self, words: tuple[str, ...]) -> None:
        from classifier.text import normalise
        self.normalise = normalise
        self.tokenizer = Tokenizer(words)
        self.cache: dict[str, int] = {}

    def word_id(self, token: str) -> int:
        h = self.cache.get(token)
        if h is None:
            h = self.cache[token] = _stable_hash(token)
        return h

    def __call__(self, text: str) -> np.ndarray:
        cleaned = self.normalise(text)
        w = np.fromiter((self.word_id(t) for t in self.tokenizer(cleaned)), dtype=np.int64)
        c = np.frombuffer(cleaned.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        parts = [w * 7 + 1, (w[:-1] * _P1 + w[1:]) * 7 + 2,
                 c * 7 + 3, (c[:-1] * _P1 + c[1:]) * 7 + 4, ((c[:-2] * _P1 + c[1:-1]) * _P2 + c[2:]) * 7 + 5]
        ids = np.concatenate(parts)
        # splitmix-style mixing, then the bucket
        ids = (ids ^ (ids >> 31)) * 0x5851F42D4C957F2D
        ids = ids ^ (ids >> 29)
        return np.mod(ids, BUCKETS)


def _batch(torch, docs: list[np.ndarray]):
    lengths = [len(d) for d in docs]
    offsets = torch.tensor(np.concatenate([[0], np.cumsum(lengths)[:-1]]), dtype=torch.long)
    return torch.from_numpy(np.concatenate(docs)), offsets


class FastText:
    def __init__(self, classes: np.ndarray, *, epochs: int = 8, lr: float = 0.02, batch: int = 32, seed: int = 0):
        import torch
        self.torch = torch
        torch.manual_seed(seed)
        self.classes = classes
        self.epochs, self.lr, self.batch = epochs, lr, batch
        self.embedding = torch.nn.EmbeddingBag(BUCKETS, DIM, mode="mean", sparse=True)
        torch.nn.init.uniform_(self.embedding.weight, -1 / DIM, 1 / DIM)
        self.linear = torch.nn.Linear(DIM, len(classes))
        self.rng = np.random.RandomState(seed)

    def fit(self, docs: list[np.ndarray], y: np.ndarray, class_weight: np.ndarray | None = None) -> "FastText":
        torch = self.torch
        targets = torch.from_numpy(np.searchsorted(self.classes, y))
        weight = None if class_weight is None else torch.tensor(class_weight, dtype=torch.float32)
        sparse = torch.optim.SparseAdam(list(self.embedding.parameters()), lr=self.lr)
        dense = torch.optim.Adam(list(self.linear.parameters()), lr=self.lr)
        steps = self.epochs * ((len(docs) + self.batch - 1) // self.batch)
        step = 0
        for _ in range(self.epochs):
            order = self.rng.permutation(len(docs))
            for start in range(0, len(docs), self.batch):
                rows = order[start:start + self.batch]
                ids, offsets = _batch(torch, [docs[i] for i in rows])
                for opt in (sparse, dense):  # linear decay to 0, as fastText does
                    for group in opt.param_groups:
                        group["lr"] = self.lr * (1 - step / steps)
                logits = self.linear(self.embedding(ids, offsets))
                loss = torch.nn.functional.cross_entropy(logits, targets[rows], weight=weight)
                sparse.zero_grad()
                dense.zero_grad()
                loss.backward()
                sparse.step()
                dense.step()
                step += 1
        return self

    def predict_proba(self, docs: list[np.ndarray], batch: int = 256) -> np.ndarray:
        torch = self.torch
        out = []
        with torch.inference_mode():
            for start in range(0, len(docs), batch):
                ids, offsets = _batch(torch, docs[start:start + batch])
                out.append(torch.softmax(self.linear(self.embedding(ids, offsets)), dim=1).numpy())
        return np.concatenate(out)


# --------------------------------------------------------------------------------------------
# Small 1-D CNN over characters (Kim-style): char embedding, convolutions of width 2/3/4,
# global max pooling, dropout, one linear layer. Title once + body, first CNN_CHARS characters.

CNN_CHARS = 512
CHAR_BUCKETS = 20011


def char_ids(title: str, body: str) -> np.ndarray:
    from classifier.text import normalise
    text = normalise(message_text(title, body, title_repeat=1), CNN_CHARS) or " "
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64) % (CHAR_BUCKETS - 1) + 1


class CharCNN:
    def __init__(self, classes: np.ndarray, *, epochs: int = 5, lr: float = 2e-3, batch: int = 32, seed: int = 0,
                 dim: int = 64, filters: int = 128):
        import torch
        self.torch = torch
        torch.manual_seed(seed)
        self.classes, self.epochs, self.lr, self.batch = classes, epochs, lr, batch
        nn = torch.nn

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.embedding = nn.Embedding(CHAR_BUCKETS, dim, padding_idx=0)
                self.convs = nn.ModuleList(nn.Conv1d(dim, filters, k) for k in (2, 3, 4))
                self.drop = nn.Dropout(0.5)
                self.out = nn.Linear(3 * filters, len(classes))

            def forward(self, ids):
                x = self.embedding(ids).transpose(1, 2)
                pooled = [torch.relu(conv(x)).amax(dim=2) for conv in self.convs]
                return self.out(self.drop(torch.cat(pooled, dim=1)))

        self.net = Net()
        self.rng = np.random.RandomState(seed)

    def _pad(self, docs: list[np.ndarray]):
        width = max(4, max(len(d) for d in docs))
        out = np.zeros((len(docs), width), dtype=np.int64)
        for i, d in enumerate(docs):
            out[i, :len(d)] = d
        return self.torch.from_numpy(out)

    def fit(self, docs: list[np.ndarray], y: np.ndarray, class_weight: np.ndarray | None = None) -> "CharCNN":
        torch = self.torch
        targets = torch.from_numpy(np.searchsorted(self.classes, y))
        weight = None if class_weight is None else torch.tensor(class_weight, dtype=torch.float32)
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        self.net.train()
        for _ in range(self.epochs):
            order = self.rng.permutation(len(docs))
            for start in range(0, len(docs), self.batch):
                rows = order[start:start + self.batch]
                loss = torch.nn.functional.cross_entropy(self.net(self._pad([docs[i] for i in rows])), targets[rows], weight=weight)
                opt.zero_grad()
                loss.backward()
                opt.step()
        self.net.eval()
        return self

    def predict_proba(self, docs: list[np.ndarray], batch: int = 64) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            return np.concatenate([torch.softmax(self.net(self._pad(docs[s:s + batch])), dim=1).numpy()
                                   for s in range(0, len(docs), batch)])


def _balanced(classes: np.ndarray, y: np.ndarray) -> np.ndarray:
    counts = np.array([(y == c).sum() for c in classes])
    return len(y) / (len(classes) * counts)


def neural(argv: list[str]) -> None:
    import torch
    torch.set_num_threads(1)
    epochs = int(argv[0]) if argv else 8
    lr = float(argv[1]) if len(argv) > 1 else 0.02
    tune_part, extra, index = folds_with_index()
    taxonomy = taxonomy_rows({e.label for e in tune_part})
    hasher = Hasher(read_user_dict())
    started = time.perf_counter()
    tune_docs = [hasher(t) for t in texts_of(tune_part)]
    extra_docs = [hasher(t) for t in texts_of(extra)]
    tax_docs = [hasher(t) for t in texts_of(taxonomy)]
    print(f"hashed {len(tune_docs) + len(extra_docs)} texts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    results: dict[str, list[tuple[float, float]]] = {}
    for k, (train_index, test_index) in enumerate(index):
        saved = np.load(OUT / f"svm_fold{k}.npz", allow_pickle=True)
        assert (saved["test_index"] == test_index).all()
        classes, truth = saved["classes"], list(saved["truth"])
        docs = [tune_docs[i] for i in train_index] + extra_docs
        y = np.array([tune_part[i].label for i in train_index] + [e.label for e in extra])
        started = time.perf_counter()
        nn = FastText(classes, epochs=epochs, lr=lr).fit(docs, y, _balanced(classes, y))
        seconds = time.perf_counter() - started
        p_nn = nn.predict_proba([tune_docs[i] for i in test_index])
        guesses = {"chosen": classes[saved["chosen"].argmax(1)], "fastText alone": classes[p_nn.argmax(1)]}
        for w in (0.5, 0.3):
            guesses[f"chosen + fastText, weight {w}"] = classes[((1 - w) * saved["chosen"] + w * p_nn).argmax(1)]
        guesses["chosen + tax + fastText, weight 0.5"] = classes[(saved["tax"] + p_nn).argmax(1)]
        guesses["chosen + tax + logtf + fastText (1/3 each)"] = classes[(2 * saved["tax_p_logtf"] + p_nn).argmax(1)]
        if os.environ.get("THIRD_TAX_NN"):
            nn_tax = FastText(classes, epochs=epochs, lr=lr).fit(docs + tax_docs, np.concatenate([y, [e.label for e in taxonomy]]),
                                                                 _balanced(classes, y))
            p_tax = nn_tax.predict_proba([tune_docs[i] for i in test_index])
            guesses["fastText + tax alone"] = classes[p_tax.argmax(1)]
            guesses["chosen + tax + (fastText + tax), weight 0.5"] = classes[(saved["tax"] + p_tax).argmax(1)]
        for name, guess in guesses.items():
            results.setdefault(name, []).append(score(truth, guess))
        np.save(OUT / f"fasttext_fold{k}.npy", p_nn)
        print(f"fold {k}: trained in {seconds:.0f} s; " + ", ".join(f"{n} {r[-1][0]:.4f}" for n, r in results.items()),
              file=sys.stderr, flush=True)
    print_table(results)


# Pre-registered from an inner split of fold 0's training part (third_inner runs, see EXPERIMENTS.md):
# 10 epochs, CNN probability weight 0.3 beside the SVM's calibrated probability.
CNN_EPOCHS = 10
CNN_WEIGHT = 0.3


def cnn(argv: list[str]) -> None:
    import torch
    torch.set_num_threads(1)
    epochs = int(argv[0]) if argv else CNN_EPOCHS
    tune_part, extra, index = folds_with_index()
    tune_docs = [char_ids(e.title, e.body) for e in tune_part]
    extra_docs = [char_ids(e.title, e.body) for e in extra]
    results: dict[str, list[tuple[float, float]]] = {}
    for k, (train_index, test_index) in enumerate(index):
        saved = np.load(OUT / f"svm_fold{k}.npz", allow_pickle=True)
        assert (saved["test_index"] == test_index).all()
        classes, truth = saved["classes"], list(saved["truth"])
        y = np.array([tune_part[i].label for i in train_index] + [e.label for e in extra])
        started = time.perf_counter()
        model = CharCNN(classes, epochs=epochs).fit([tune_docs[i] for i in train_index] + extra_docs, y, _balanced(classes, y))
        seconds = time.perf_counter() - started
        p_cnn = model.predict_proba([tune_docs[i] for i in test_index])
        np.save(OUT / f"cnn_fold{k}.npy", p_cnn)
        guesses = {"chosen": classes[saved["chosen"].argmax(1)], "char CNN alone": classes[p_cnn.argmax(1)]}
        for w in (CNN_WEIGHT, 0.2, 0.5):
            guesses[f"chosen + char CNN, weight {w}"] = classes[((1 - w) * saved["chosen"] + w * p_cnn).argmax(1)]
        guesses[f"chosen + tax + char CNN, weight {CNN_WEIGHT}"] = classes[((1 - CNN_WEIGHT) * saved["tax"] + CNN_WEIGHT * p_cnn).argmax(1)]
        guesses[f"chosen + tax + logtf + char CNN, weight {CNN_WEIGHT}"] = classes[
            ((1 - CNN_WEIGHT) * saved["tax_p_logtf"] + CNN_WEIGHT * p_cnn).argmax(1)]
        fasttext = OUT / f"fasttext_fold{k}.npy"
        if fasttext.exists():
            p_ft = np.load(fasttext)
            guesses["chosen 0.5 + char CNN 0.3 + fastText 0.2"] = classes[(0.5 * saved["chosen"] + 0.3 * p_cnn + 0.2 * p_ft).argmax(1)]
        for name, guess in guesses.items():
            results.setdefault(name, []).append(score(truth, guess))
        print(f"fold {k}: trained in {seconds:.0f} s; " + ", ".join(f"{n} {r[-1][0]:.4f}" for n, r in results.items()),
              file=sys.stderr, flush=True)
    print_table(results)


def report_cnn() -> None:
    """Only for a variant that passed the bar: chosen + char CNN (weight CNN_WEIGHT) on the report part."""
    import torch
    torch.set_num_threads(1)
    from classifier.model import ModelSettings, train
    tune_part, report_part = report_split()
    extra = read_examples(SHIPPED_DATA[1])
    truth = [e.label for e in report_part]
    model = train(tune_part + extra, user_words=read_user_dict(), settings=ModelSettings())
    p_svm = model.probabilities(texts_of(report_part))
    classes = np.array(model.labels)
    print("chosen (tuning part + titles-only)  macro-F1 %.4f  accuracy %.4f" % score(truth, classes[p_svm.argmax(1)]))
    y = np.array([e.label for e in tune_part + extra])
    started = time.perf_counter()
    net = CharCNN(classes, epochs=CNN_EPOCHS).fit([char_ids(e.title, e.body) for e in tune_part + extra], y, _balanced(classes, y))
    p_cnn = net.predict_proba([char_ids(e.title, e.body) for e in report_part])
    print("char CNN alone  macro-F1 %.4f  accuracy %.4f  (trained in %.0f s)" % (*score(truth, classes[p_cnn.argmax(1)]), time.perf_counter() - started))
    mixed = (1 - CNN_WEIGHT) * p_svm + CNN_WEIGHT * p_cnn
    print(f"chosen + char CNN, weight {CNN_WEIGHT}  macro-F1 %.4f  accuracy %.4f" % score(truth, classes[mixed.argmax(1)]))


def latency() -> None:
    """Single-message and batch speed of both neural models (1 thread), 2,000 tuning-part messages.
    Weights come from 1 epoch of training: speed does not depend on them."""
    import torch
    torch.set_num_threads(1)
    tune_part, extra, _ = folds_with_index()
    train_rows, bench_rows = tune_part[:2000] + extra, tune_part[2000:4000]
    y = np.array([e.label for e in train_rows])
    classes = np.unique(y)
    hasher = Hasher(read_user_dict())
    fasttext = FastText(classes, epochs=1).fit([hasher(t) for t in texts_of(train_rows)], y)
    cnn_model = CharCNN(classes, epochs=1).fit([char_ids(e.title, e.body) for e in train_rows], y)
    fresh = Hasher(read_user_dict())
    fresh("预热")  # the first call builds the rjieba dictionary
    models = {
        "fastText (normalise + rjieba + hashing + model)": (lambda e: fresh(message_text(e.title, e.body)), fasttext, 256),
        "char CNN (normalise + code points + model)": (lambda e: char_ids(e.title, e.body), cnn_model, 64),
    }
    for name, (prepare, model, batch) in models.items():
        for e in bench_rows[:50]:  # warm-up
            model.predict_proba([prepare(e)], batch=1)
        times = []
        for e in bench_rows:
            t0 = time.perf_counter()
            model.predict_proba([prepare(e)], batch=1)
            times.append(time.perf_counter() - t0)
        ms = np.array(times) * 1000
        t0 = time.perf_counter()
        model.predict_proba([prepare(e) for e in bench_rows], batch=batch)
        rate = len(bench_rows) / (time.perf_counter() - t0)
        print(f"{name}: single p50 {np.percentile(ms, 50):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms, "
              f"max {ms.max():.2f} ms; batches of {batch}: {rate:.0f} messages/s", flush=True)
    t0 = time.perf_counter()
    for e in bench_rows:
        fresh.tokenizer(fresh.normalise(message_text(e.title, e.body)))
    print(f"normalise + rjieba alone: {len(bench_rows) / (time.perf_counter() - t0):.0f} messages/s")
    for name, params in (("fastText", [*fasttext.embedding.parameters(), *fasttext.linear.parameters()]),
                         ("char CNN", list(cnn_model.net.parameters()))):
        n = sum(p.numel() for p in params)
        print(f"{name} parameters: {n:,} ({n * 4 / 1e6:.1f} MB float32)")


def inner(argv: list[str]) -> None:
    """How the neural settings were picked: 25% of fold 0's TRAINING part (by dup_group, seed 0)
    held out, the rest + titles-only to train. No test fold of fold 0 is read; the held-out rows
    are test rows of other folds, so the 6-fold neural numbers are if anything optimistic.
    `inner fasttext EPOCHS,LR,BATCH ...` or `inner cnn EPOCHS ...`."""
    import torch
    from sklearn.model_selection import GroupShuffleSplit
    torch.set_num_threads(1)
    tune_part, extra, index = folds_with_index()
    rows = [tune_part[i] for i in index[0][0]]
    a, b = next(GroupShuffleSplit(1, test_size=0.25, random_state=0).split(rows, groups=[e.group for e in rows]))
    fit_rows, held = [rows[i] for i in a] + extra, [rows[i] for i in b]
    y = np.array([e.label for e in fit_rows])
    classes, truth = np.unique(y), [e.label for e in held]
    features = Features(Tokenizer(read_user_dict()), FeatureSettings())
    p_svm = CalibratedLinearSVC().fit(features.fit_transform(texts_of(fit_rows)), y).predict_proba(features.transform(texts_of(held)))
    print("chosen SVM  macro-F1 %.4f  accuracy %.4f" % score(truth, classes[p_svm.argmax(1)]))
    if argv[0] == "fasttext":
        hasher = Hasher(read_user_dict())
        fit_docs, held_docs = [hasher(t) for t in texts_of(fit_rows)], [hasher(t) for t in texts_of(held)]
    else:
        fit_docs, held_docs = [char_ids(e.title, e.body) for e in fit_rows], [char_ids(e.title, e.body) for e in held]
    for spec in argv[1:]:
        started = time.perf_counter()
        if argv[0] == "fasttext":
            epochs, lr, batch = spec.split(",")
            model = FastText(classes, epochs=int(epochs), lr=float(lr), batch=int(batch))
        else:
            model = CharCNN(classes, epochs=int(spec))
        p = model.fit(fit_docs, y, _balanced(classes, y)).predict_proba(held_docs)
        line = f"{argv[0]} {spec}: alone %.4f" % score(truth, classes[p.argmax(1)])[0]
        line += "".join(f", SVM + weight {w} %.4f" % score(truth, classes[((1 - w) * p_svm + w * p).argmax(1)])[0]
                        for w in (0.5, 0.3, 0.2))
        print(line + f" ({time.perf_counter() - started:.0f} s)", flush=True)


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    if argv[0] == "combos":
        combos()
    elif argv[0] == "neural":
        neural(argv[1:])
    elif argv[0] == "cnn":
        cnn(argv[1:])
    elif argv[0] == "report" and argv[1:] == ["cnn"]:
        report_cnn()
    elif argv[0] == "inner":
        inner(argv[1:])
    elif argv[0] == "latency":
        latency()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
