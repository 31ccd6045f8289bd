"""An MNIST-style CNN classifier on scikit-learn's 8x8 digits, written only with PyTorch names:
Conv2d/MaxPool2d/Dropout2d, Adam, StepLR, a DataLoader, and a checkpoint saved and resumed
half-way (model, optimizer and scheduler through torch.save / torch.load).

tests/port/test_port.py runs this file as it stands (PyTorch) and with its imports changed to
deepx, from the same source; nothing below knows which framework it runs on.
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.dropout = nn.Dropout2d(0.1)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = self.dropout(F.max_pool2d(F.relu(self.conv2(x)), 2))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def init_from_numpy(model, seed):
    """The same starting weights in any framework: U(+-1/sqrt(fan_in)) from NumPy."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else p.shape[0]
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.tensor(rng.uniform(-bound, bound, size=tuple(p.shape)),
                                 dtype=torch.float32))


def load_data():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]  # (N, 1, 8, 8)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:1200], order[1200:]
    return ((torch.tensor(x[train]), torch.tensor(y[train])),
            (torch.tensor(x[test]), torch.tensor(y[test])))


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits, y).item()
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    model.train()
    return loss, accuracy


def make(lr=5e-3):
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return model, optimizer, scheduler


def main(checkpoint_dir, epochs=4):
    torch.manual_seed(0)
    (x_train, y_train), (x_test, y_test) = load_data()
    model, optimizer, scheduler = make()
    init_from_numpy(model, 0)
    initial_loss, _ = evaluate(model, x_test, y_test)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
    criterion = nn.CrossEntropyLoss()
    epoch_losses = []
    for epoch in range(epochs):
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
        epoch_losses.append(total / len(loader))
        scheduler.step()
        if epoch == epochs // 2 - 1:  # checkpoint, then carry on from fresh objects
            path = os.path.join(checkpoint_dir, "digits_cnn.pt")
            torch.save({"epoch": epoch, "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict()}, path)
            checkpoint = torch.load(path, map_location="cpu")
            model, optimizer, scheduler = make(lr=1.0)  # every setting comes from the file
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
            scheduler.load_state_dict(checkpoint["scheduler"])
    final_loss, accuracy = evaluate(model, x_test, y_test)
    return {"initial_loss": initial_loss, "epoch_losses": epoch_losses,
            "final_loss": final_loss, "accuracy": accuracy,
            "lr": optimizer.param_groups[0]["lr"]}
