"""Per-trial statistics of the gradient experiment (F4-F7, harness/gradients.py),
computed as trials run so that no raw gradient tensor is kept.

Tail statistics of the 10240 values of one gradient (exact zeros, from dead
ReLU units, counted and excluded): exceedance fraction beyond TAIL_K robust
spreads (1.4826 MAD about the median), excess kurtosis, Hill tail index on the
HILL_M largest |values|. These are scale-free, so "mean" gives the same values
as "sum". The post's literal comparison, counts beyond one fixed value on the
axis, is the fraction of nonzero |values| above ABS_C * s_ref, where s_ref is
the RMS of the BS1024 gradient of trial 0 (the same in every chunk).
Fixed-bin histograms of log10(|value| / s_ref) (zeros excluded, HIST_EDGES)
are summed over a chunk's trials for the figures.
"""
import numpy as np
import torch

TAIL_K = 5.0       # exceedance beyond this many robust spreads
HILL_M = 100       # order statistics used by the Hill estimator (~1% of 10240)
ABS_C = 3.0        # the fixed absolute threshold, in units of s_ref
HIST_EDGES = tuple(np.round(np.linspace(-5.0, 4.0, 181), 6).tolist())  # log10(|g| / s_ref)


def tail_stats(v: torch.Tensor, k=TAIL_K, m=HILL_M):
    """Scale-free tail statistics of one gradient tensor's values, zeros excluded:
    (zeros, exceedance beyond k robust spreads, excess kurtosis, Hill index)."""
    v = v.reshape(-1).double()
    nz = v[v != 0]
    zeros = v.numel() - nz.numel()
    med = nz.median()
    dev = (nz - med).abs()
    spread = 1.4826 * dev.median()
    exceed = (dev > k * spread).double().mean().item()
    c = nz - nz.mean()
    kurt = ((c ** 4).mean() / (c ** 2).mean() ** 2 - 3.0).item()
    a = nz.abs().sort(descending=True).values
    hill = (1.0 / (a[:m].log() - a[m].log()).mean()).item()
    return zeros, exceed, kurt, hill


def abs_exceed(v: torch.Tensor, threshold: float) -> float:
    """Fraction of the nonzero values whose magnitude exceeds a fixed threshold."""
    v = v.reshape(-1)
    nz = v[v != 0]
    return (nz.abs() > threshold).double().mean().item()


def log_hist(v: torch.Tensor, s_ref: float) -> torch.Tensor:
    """Counts of log10(|v| / s_ref) in HIST_EDGES bins, plus underflow and overflow
    (zeros excluded): len(HIST_EDGES) + 1 counts."""
    v = v.reshape(-1).double()
    lv = (v[v != 0].abs() / s_ref).log10()
    idx = torch.bucketize(lv, torch.tensor(HIST_EDGES, dtype=torch.float64))
    return torch.bincount(idx, minlength=len(HIST_EDGES) + 1)
