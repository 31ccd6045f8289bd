"""Differentiable ops, one file per family; each Function's forward and backward live once."""
