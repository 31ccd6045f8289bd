"""A character-level language model (a context-window MLP over nn.Embedding vectors), written
only with PyTorch names: Embedding with padding_idx, ModuleDict, AdamW, a warm-up then cosine
schedule through SequentialLR, and next-character accuracy.

tests/port/test_port.py runs this file as it stands (PyTorch) and with its imports changed to
deepx, from the same source.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

TEXT = ("the quick brown fox jumps over the lazy dog. a stitch in time saves nine. "
        "all that glitters is not gold. where there is smoke there is fire. ") * 4
CONTEXT = 5


class CharMLP(nn.Module):
    def __init__(self, vocab_size, dim=16, hidden=96):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.layers = nn.ModuleDict({"hidden": nn.Linear(CONTEXT * dim, hidden),
                                     "out": nn.Linear(hidden, vocab_size)})
        self.act = nn.Tanh()

    def forward(self, idx):
        x = self.embed(idx).flatten(1)  # (B, CONTEXT * dim)
        return self.layers["out"](self.act(self.layers["hidden"](x)))


def init_from_numpy(model, seed):
    """The same starting weights in any framework: U(+-1/sqrt(last dim)) from NumPy."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            bound = 1.0 / np.sqrt(p.shape[-1])
            p.copy_(torch.tensor(rng.uniform(-bound, bound, size=tuple(p.shape)),
                                 dtype=torch.float32))


def load_data():
    chars = sorted(set(TEXT))
    stoi = {c: i + 1 for i, c in enumerate(chars)}  # 0 is the padding index
    ids = [0] * CONTEXT + [stoi[c] for c in TEXT]
    x = np.array([ids[i:i + CONTEXT] for i in range(len(TEXT))], dtype=np.int64)
    y = np.array(ids[CONTEXT:], dtype=np.int64)
    return torch.tensor(x), torch.tensor(y), len(chars) + 1


def main(epochs=12):
    torch.manual_seed(0)
    x, y, vocab_size = load_data()
    model = CharMLP(vocab_size)
    init_from_numpy(model, 1)
    with torch.no_grad():
        initial_loss = F.cross_entropy(model(x), y).item()
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, drop_last=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    total = epochs * len(loader)
    warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: (step + 1) / 10)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - 10)
    scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine],
                                                      milestones=[10])
    epoch_losses = []
    for _ in range(epochs):
        total = 0.0
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
        epoch_losses.append(total / len(loader))
    model.eval()
    with torch.no_grad():
        logits = model(x)
        final_loss = F.cross_entropy(logits, y).item()
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    padding_grad = model.embed.weight.grad[0].abs().sum().item()
    return {"initial_loss": initial_loss, "epoch_losses": epoch_losses,
            "final_loss": final_loss, "accuracy": accuracy, "padding_grad": padding_grad}
