# What fine-tuning an encoder of multilingual-e5-small's shape (12 layers, 384 wide, 12 heads,
# FFN 1536) would cost on this CPU: random weights, since the shape is what costs. Run with torch
# 2.13.0 CPU in a venv of its own (the project does not depend on torch). Embedding table kept small:
# its gradient is sparse in practice, and the 250k x 384 table would only add optimizer memory.
import time, torch, torch.nn as nn
torch.manual_seed(0)
L, D, H, F, T, B = 12, 384, 12, 1536, 96, 16
layer = nn.TransformerEncoderLayer(D, H, F, batch_first=True, activation="gelu", dropout=0.1)
enc = nn.TransformerEncoder(layer, L)
emb = nn.Embedding(30000, D); head = nn.Linear(D, 7)
params = list(enc.parameters()) + list(emb.parameters()) + list(head.parameters())
opt = torch.optim.AdamW(params, lr=3e-5)
x = torch.randint(0, 30000, (B, T)); y = torch.randint(0, 7, (B,))
for top in (12, 2):
    for p in enc.parameters(): p.requires_grad = False
    for l in enc.layers[L-top:]:
        for p in l.parameters(): p.requires_grad = True
    times = []
    for step in range(6):
        s = time.perf_counter()
        h = emb(x)
        if top < L:
            with torch.no_grad():
                for l in enc.layers[:L-top]: h = l(h)
        for l in enc.layers[L-top:]: h = l(h)
        loss = nn.functional.cross_entropy(head(h.mean(1)), y)
        opt.zero_grad(); loss.backward(); opt.step()
        times.append(time.perf_counter() - s)
    per = sorted(times[1:])[len(times[1:])//2]
    print(f"train top {top} layers: {per*1000:.0f} ms a batch of {B}x{T} tokens -> {per/B*1000:.1f} ms a message; 7,600 rows x 3 epochs = {per/B*7600*3/60:.0f} min")
enc.eval()
with torch.no_grad():
    s=time.perf_counter()
    for _ in range(5): enc(emb(x))
    print(f"inference {(time.perf_counter()-s)/5/B*1000:.1f} ms a message (batch of {B})")
