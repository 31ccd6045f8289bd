"""Datasets, samplers and the DataLoader, named and shaped as in torch.utils.data."""
from .dataset import Dataset, Subset, TensorDataset, random_split
from .datasets import MNIST, FashionMNIST, load_digits, read_idx
from .loader import DataLoader, default_collate, default_convert
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from .workers import WorkerInfo, get_worker_info

__all__ = [
    "MNIST",
    "BatchSampler",
    "DataLoader",
    "Dataset",
    "FashionMNIST",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "TensorDataset",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "load_digits",
    "random_split",
    "read_idx",
]
