"""Compressed sparse rows, as the match index and its second stage read them."""

from __future__ import annotations

import numpy as np


def gather(ptr: np.ndarray, idx: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The entries of ``keys``' rows, concatenated, and for each the position of its key in ``keys``."""
    starts, lens = ptr[keys], ptr[keys + 1] - ptr[keys]
    total = int(lens.sum())
    if not total:
        return np.zeros(0, idx.dtype), np.zeros(0, np.int64)
    offs = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(total)
    return idx[offs], np.repeat(np.arange(len(keys)), lens)
