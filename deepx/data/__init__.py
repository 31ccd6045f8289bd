"""Datasets, samplers and the DataLoader, named and shaped as in torch.utils.data."""
from .dataset import Dataset, Subset, TensorDataset, random_split
from .datasets import MNIST, FashionMNIST, load_digits, read_idx
from .loader import DataLoader, default_collate, default_convert
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

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
    "default_collate",
    "default_convert",
    "load_digits",
    "random_split",
    "read_idx",
]
