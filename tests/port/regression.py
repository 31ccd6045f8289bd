"""A small MLP regression written only with PyTorch names: SGD with momentum, gradient
clipping by norm (nn.utils.clip_grad_norm_), ReduceLROnPlateau on a validation loss, MSELoss.
The optimizer is a parameter so the same program also runs Adagrad and Adadelta.

tests/port/test_port.py runs this file as it stands (PyTorch) and with its imports changed to
deepx, from the same source.
"""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(n, 3))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2 - x[:, 2] + 0.05 * rng.standard_normal(n)
    return (torch.tensor(x, dtype=torch.float32),
            torch.tensor(y, dtype=torch.float32).unsqueeze(1))


def init_from_numpy(model, seed):
    """The same starting weights in any framework: U(+-1/sqrt(last dim)) from NumPy."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            bound = 1.0 / np.sqrt(p.shape[-1])
            p.copy_(torch.tensor(rng.uniform(-bound, bound, size=tuple(p.shape)),
                                 dtype=torch.float32))


def main(optimizer_name="sgd", epochs=15):
    torch.manual_seed(0)
    x_train, y_train = make_data(512, 0)
    x_val, y_val = make_data(256, 1)
    model = nn.Sequential(nn.Linear(3, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                          nn.Linear(64, 1))
    init_from_numpy(model, 2)
    criterion = nn.MSELoss()
    with torch.no_grad():
        initial_loss = criterion(model(x_val), y_val).item()
    if optimizer_name == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    elif optimizer_name == "adagrad":
        optimizer = torch.optim.Adagrad(model.parameters(), lr=0.05)
    else:
        optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
    epoch_losses, norms = [], []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            norms.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).item())
            optimizer.step()
            total += loss.item()
        epoch_losses.append(total / len(loader))
        model.eval()
        with torch.no_grad():
            val_loss = criterion(model(x_val), y_val).item()
        scheduler.step(val_loss)
    r2 = 1.0 - val_loss / y_val.var().item()
    return {"initial_loss": initial_loss, "epoch_losses": epoch_losses, "final_loss": val_loss,
            "r2": r2, "max_grad_norm": max(norms), "lr": optimizer.param_groups[0]["lr"]}
