"""Train a small CNN on the 8x8 digits (or LeNet on MNIST): progress bars, accuracy, checkpoint.

    python -m deepx.examples.train                  # digits: 1,437 train / 360 test images
    python -m deepx.examples.train --dataset mnist --download      # fetch MNIST once, train

Prints one line per epoch (a tqdm bar with loss and samples/s when stdout is a terminal), then
the test accuracy and wall time; writes the model's state dict to OUT/<dataset>_<model>.safetensors
(read it back with deepx.load + load_state_dict) and the training curve to OUT/train_<dataset>.png.

MNIST: --data-dir defaults to $DEEPX_DATA/mnist, else ~/.cache/deepx/mnist; --download
fetches the missing IDX files there (md5-checked). With train-images/labels present it trains
on the 60,000 and tests on the 10,000; with only the t10k files the 10,000 test images are
split 8,000 train / 2,000 held out.

On OpenCL the first run compiles each kernel program (cached afterwards, in POCL_CACHE_DIR
for PoCL); a line per program says so instead of a silent first epoch.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import deepx as dx
import deepx.nn as nn
import deepx.nn.functional as F
import deepx.optim as optim
from deepx import models
from deepx.data import MNIST, DataLoader, TensorDataset, load_digits
from deepx.data.datasets import default_root
from deepx.errors import DatasetError
from deepx.examples import _common

# Per dataset: epochs, batch size, peak lr (Adam), and the quick mode's epochs and image counts.
# Tuned over seeds 0-7 (NumPy device): digits 98.6-99.2% test accuracy; MNIST 8,000/2,000
# split, seeds 0-6: 98.0-98.5% held out.
DEFAULTS = {
    "digits": {"epochs": 10, "batch_size": 32, "lr": 3e-3, "quick_epochs": 2,
               "quick_train": 600, "quick_test": 360},
    "mnist": {"epochs": 3, "batch_size": 16, "lr": 3e-3, "quick_epochs": 1,
              "quick_train": 800, "quick_test": 400},
}
TRAIN_FILES = ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
# A good learning rate differs by an order of magnitude between optimizers; --lr overrides.
LR_SCALE = {"sgd": 10.0, "adam": 1.0, "adamw": 1.0, "rmsprop": 0.5}


def digits_cnn(num_classes: int = 10) -> nn.Module:
    """Two 3x3 convolutions and a 2x2 max pool for (N, 1, 8, 8) images -> (N, num_classes)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),                                      # (N, 32, 4, 4)
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
        nn.Linear(64, num_classes),
    )


def every_fifth_split(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A stratified 80/20 split: shuffle, sort by label (stably), every 5th index is held out."""
    order = np.random.default_rng(seed).permutation(len(labels))
    order = order[np.argsort(labels[order], kind="stable")]
    held_out = np.zeros(len(labels), dtype=bool)
    held_out[order[::5]] = True
    return np.flatnonzero(~held_out), np.flatnonzero(held_out)


def load_data(args: argparse.Namespace) -> tuple[tuple, tuple, str]:
    """((x_train, y_train), (x_test, y_test), description); x float32 (N, 1, H, W), y int64."""
    if args.dataset == "digits":
        images, labels = load_digits(as_tensors=False)
        train, test = every_fifth_split(labels, args.seed)  # 1,437 / 360
        split = "digits (sklearn 8x8), stratified split"
        return (images[train], labels[train]), (images[test], labels[test]), split
    root = Path(args.data_dir) if args.data_dir else default_root("mnist")
    try:
        test_set = MNIST(root, train=False, download=args.download)
        if args.download:
            MNIST(root, train=True, download=True)
    except DatasetError as exc:
        raise SystemExit(f"{exc}\n(run with --download to fetch MNIST into {root}, or point "
                         "--data-dir or DEEPX_DATA at a folder of IDX files)") from exc
    x = test_set.data[:, None].astype(np.float32) / 255
    y = test_set.targets
    if any((root / name).is_file() for name in TRAIN_FILES):
        train_set = MNIST(root, train=True)
        x_train = train_set.data[:, None].astype(np.float32) / 255
        return (x_train, train_set.targets), (x, y), "MNIST train / test"
    train, test = every_fifth_split(y, args.seed)  # 8,000 / 2,000
    return (x[train], y[train]), (x[test], y[test]), "MNIST test set split (no train files)"


class CompileLog:
    """A BUILD_LISTENERS hook: one line per slow kernel-program build, so a cold first epoch
    says what it is doing; totals for the epoch summary."""

    def __init__(self) -> None:
        self.seconds, self.count = 0.0, 0

    def __call__(self, file: str, options: tuple, seconds: float) -> None:
        self.seconds += seconds
        self.count += 1
        if seconds >= 0.2:  # a warm pyopencl cache loads a program in ~0.06 s: stay quiet
            tqdm.write(f"  compiled kernels/{file} {' '.join(options)} in {seconds:.1f} s "
                       "(first run on this device; cached afterwards)")


def _build_listeners(device) -> list:
    """The OpenCL runtime's program-build hooks (a throwaway list on the NumPy device)."""
    if device.type != "opencl":
        return []
    from deepx.backend.opencl import runtime

    return runtime.BUILD_LISTENERS


def make_model(dataset: str) -> tuple[nn.Module, str]:
    """The model for the dataset and its name."""
    if dataset == "digits":
        return digits_cnn(), "cnn"
    return models.lenet(num_classes=10), "lenet"


def make_optimizer(name: str, params, lr: float) -> optim.Optimizer:
    """One of OPTIMIZERS with its usual settings (SGD with Nesterov momentum 0.9)."""
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)
    if name == "adam":
        return optim.Adam(params, lr=lr)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=1e-2)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")


def evaluate(model: nn.Module, x: dx.Tensor, y: dx.Tensor, batch_size: int = 500):
    """(mean cross-entropy, accuracy) of model on x (N, ...), y (N,), in eval mode."""
    model.eval()
    total_loss, correct = 0.0, 0
    with dx.no_grad():
        for i in range(0, len(y), batch_size):
            logits = model(x[i:i + batch_size])
            target = y[i:i + batch_size]
            total_loss += F.cross_entropy(logits, target, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == target).sum().item())
    model.train()
    return total_loss / len(y), correct / len(y)


def train_epoch(model, loader, optimizer, scheduler, desc: str) -> dict:
    """One pass over loader, one scheduler step per batch; mean loss, accuracy, samples/s."""
    model.train()
    # Running sums stay on the device: reading them (.item()) waits for the queue, which
    # leaves the device idle while Python prepares the next step. They are read when the bar
    # refreshes (every ~0.5 s) and at the end, so both keep working the rest of the time.
    total_loss, correct, seen = 0.0, 0, 0
    start = time.perf_counter()
    # disable=None: no bar when stdout is not a terminal (CI logs stay clean).
    with tqdm(total=len(loader.dataset), desc=desc, unit=" samples",
              disable=None, leave=False, mininterval=0.5, dynamic_ncols=True) as bar:
        shown = time.perf_counter()
        for x, y in loader:
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            n = len(y)
            with dx.no_grad():
                total_loss = loss.detach() * n + total_loss
                correct = (logits.argmax(dim=1) == y).sum() + correct
            seen += n
            bar.update(n)
            if not bar.disable and time.perf_counter() - shown >= 0.5:
                bar.set_postfix(loss=f"{total_loss.item() / seen:.4f}", refresh=False)
                shown = time.perf_counter()
    total_loss, correct = float(total_loss), int(correct)
    seconds = time.perf_counter() - start
    return {"loss": total_loss / seen, "accuracy": correct / seen, "seconds": seconds,
            "samples_per_s": seen / seconds}


def plot_curves(history: list, path: Path, title: str) -> None:
    """Loss (left) and accuracy (right) per epoch, train and test."""
    plt = _common.pyplot()
    from matplotlib.ticker import MaxNLocator  # after _common.pyplot() selected Agg

    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, [h["train_loss"] for h in history], marker="o", label="train")
    ax_loss.plot(epochs, [h["test_loss"] for h in history], marker="o", label="test")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy (nats, mean per image)")
    ax_loss.set_title("loss")
    ax_loss.set_yscale("log")
    _common.legend_below(ax_loss)
    ax_acc.plot(epochs, [h["train_accuracy"] for h in history], marker="o", label="train")
    ax_acc.plot(epochs, [h["test_accuracy"] for h in history], marker="o", label="test")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (fraction correct)")
    ax_acc.set_title("accuracy")
    _common.legend_below(ax_acc)
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def parse_args(argv=None) -> argparse.Namespace:
    p = _common.parser("train", __doc__.splitlines()[0])
    p.add_argument("--dataset", choices=("digits", "mnist"), default="digits",
                   help="default: digits")
    p.add_argument("--data-dir", default=None,
                   help="folder of MNIST IDX files, raw or .gz (default: $DEEPX_DATA/mnist, "
                        "else ~/.cache/deepx/mnist)")
    p.add_argument("--download", action="store_true",
                   help="fetch missing MNIST files into --data-dir (md5-checked)")
    p.add_argument("--epochs", type=int, default=None, help="default: digits 10, mnist 3")
    p.add_argument("--batch-size", type=int, default=None, help="default: digits 32, mnist 16")
    p.add_argument("--lr", type=float, default=None,
                   help="peak learning rate (default per dataset and optimizer)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="default: adam")
    p.add_argument("--schedule", choices=("onecycle", "none"), default="onecycle",
                   help="learning-rate policy, stepped per batch (default onecycle)")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    """Train and report; returns test_accuracy, wall_s, checkpoint, png, history, model..."""
    t0 = time.perf_counter()
    args = parse_args(argv)
    device = _common.setup(args)
    cfg = DEFAULTS[args.dataset]
    epochs = args.epochs or (cfg["quick_epochs"] if args.quick else cfg["epochs"])
    batch_size = args.batch_size or cfg["batch_size"]
    lr = args.lr or cfg["lr"] * LR_SCALE[args.optimizer]

    (x_train, y_train), (x_test, y_test), source = load_data(args)
    if args.quick:
        x_train, y_train = x_train[:cfg["quick_train"]], y_train[:cfg["quick_train"]]
        x_test, y_test = x_test[:cfg["quick_test"]], y_test[:cfg["quick_test"]]
    mean, std = float(x_train.mean()), float(x_train.std())  # standardise with train statistics
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    train_set = TensorDataset(dx.tensor(x_train), dx.tensor(y_train))
    x_test_t, y_test_t = dx.tensor(x_test), dx.tensor(y_test)
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)

    model, model_name = make_model(args.dataset)
    model.to(device)
    optimizer = make_optimizer(args.optimizer, model.parameters(), lr)
    scheduler = None
    if args.schedule == "onecycle":
        scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr,
                                                  total_steps=epochs * len(loader))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{source}: {len(y_train)} train / {len(y_test)} test images {x_train.shape[1:]}; "
          f"{model_name} ({n_params:,} parameters) on {device}; {args.optimizer} lr {lr:g} "
          f"({args.schedule}), batch {batch_size}, {epochs} epochs")

    history = []
    cpu_before = os.times()
    compile_log = CompileLog()
    listeners = _build_listeners(device)
    listeners.append(compile_log)
    t_train = time.perf_counter()
    for epoch in range(1, epochs + 1):
        compiled_before = compile_log.seconds
        stats = train_epoch(model, loader, optimizer, scheduler, f"epoch {epoch}/{epochs}")
        test_loss, test_acc = evaluate(model, x_test_t, y_test_t)
        history.append({"epoch": epoch, "train_loss": stats["loss"],
                        "train_accuracy": stats["accuracy"], "test_loss": test_loss,
                        "test_accuracy": test_acc, "seconds": stats["seconds"],
                        "samples_per_s": stats["samples_per_s"]})
        print(f"epoch {epoch:2d}/{epochs}: loss {stats['loss']:.4f}, train acc "
              f"{stats['accuracy']:.2%}, test loss {test_loss:.4f}, test acc {test_acc:.2%}, "
              f"{stats['seconds']:.1f} s ({stats['samples_per_s']:,.0f} samples/s)", flush=True)
        compiled = compile_log.seconds - compiled_before
        if compiled >= 1.0:
            print(f"  (this epoch built OpenCL programs for {compiled:.1f} s, and PoCL compiles "
                  "each kernel again at its first launch size: a first run's cost, cached for "
                  "later runs)", flush=True)
    listeners.remove(compile_log)
    train_s = time.perf_counter() - t_train
    cpu = os.times()
    # CPU seconds of all this process's threads (PoCL's too) per wall second of training
    cores_busy = (cpu.user + cpu.system - cpu_before.user - cpu_before.system) / train_s

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / f"{args.dataset}_{model_name}.safetensors"
    dx.save(model.state_dict(), checkpoint)
    png = _common.png_path(out, f"train_{args.dataset}.png")
    plot_curves(history, png, f"{model_name} on {source}, {args.optimizer}, batch {batch_size}")
    wall_s = time.perf_counter() - t0
    test_acc = history[-1]["test_accuracy"]
    print(f"test accuracy {test_acc:.2%} ({len(y_test)} images); training {train_s:.1f} s "
          f"({cores_busy:.1f} of {os.cpu_count()} cores busy on average), wall time "
          f"{wall_s:.1f} s on {device}")
    print(f"wrote {checkpoint}")
    print(f"wrote {png}")
    return {"test_accuracy": test_acc, "train_s": train_s, "wall_s": wall_s,
            "cores_busy": cores_busy,
            "checkpoint": str(checkpoint), "png": str(png), "history": history,
            "model": model, "model_name": model_name}


if __name__ == "__main__":
    main()
