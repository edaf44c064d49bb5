"""Per-trial statistics of the gradient experiment (F4-F7, harness/gradients.py),
computed as trials run so that no raw gradient tensor is kept.

Tail statistics of the 10240 values of one gradient (exact zeros, from dead
ReLU units, counted and excluded): exceedance fraction beyond TAIL_K robust
spreads (1.4826 MAD about the median), excess kurtosis, Hill tail index on the
HILL_M largest |values|. These are scale-free, so "mean" gives the same values
as "sum". The post's literal comparison, counts beyond one fixed value on the
axis, is the fraction (and the count) of nonzero |values| above ABS_C * s_ref,
where s_ref is the RMS of the BS1024 gradient of trial 0 under the same
reading (the same in every chunk). The width of the distribution's centre,
for F7's "centres alike": the robust spread (1.4826 MAD about the median) of
the nonzero values, not normalised.
Fixed-bin histograms, summed over a chunk's trials for the figures: of
log10(|value| / s_ref) (zeros excluded, HIST_EDGES; F7's tails) and of the
signed values, asinh(value / s_ref) (zeros included, SIGNED_EDGES; F7's
ridgeline of the value distribution per batch size, like the post's figure).
asinh is linear near 0 and logarithmic in the tails, so one axis shows both
the bulk and the extremes.
"""
import numpy as np
import torch

TAIL_K = 5.0       # exceedance beyond this many robust spreads
HILL_M = 100       # order statistics used by the Hill estimator (~1% of 10240)
ABS_C = 3.0        # the fixed absolute threshold, in units of s_ref
HIST_EDGES = tuple(np.round(np.linspace(-5.0, 4.0, 181), 6).tolist())  # log10(|g| / s_ref)
SIGNED_EDGES = tuple(np.round(np.linspace(-8.0, 8.0, 161), 6).tolist())  # asinh(g / s_ref)


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


def abs_count(v: torch.Tensor, threshold: float) -> int:
    """How many values' magnitudes exceed a fixed threshold (zeros never do)."""
    return int((v.reshape(-1).abs() > threshold).sum().item())


def centre_width(v: torch.Tensor) -> float:
    """The width of the centre of one gradient's value distribution, in its own
    units: 1.4826 x the median absolute deviation from the median of the nonzero
    values (the standard deviation, were the centre normal)."""
    v = v.reshape(-1).double()
    nz = v[v != 0]
    return (1.4826 * (nz - nz.median()).abs().median()).item()


def _counts(x: torch.Tensor, edges) -> torch.Tensor:
    """Counts of x in the bins between edges, plus underflow (first) and
    overflow (last): len(edges) + 1 int64 counts (torch.bucketize's bins)."""
    idx = torch.bucketize(x, torch.tensor(edges, dtype=torch.float64))
    return torch.bincount(idx, minlength=len(edges) + 1)


def log_hist(v: torch.Tensor, s_ref: float) -> torch.Tensor:
    """Counts of log10(|v| / s_ref) in HIST_EDGES bins, plus underflow and overflow
    (zeros excluded): len(HIST_EDGES) + 1 counts."""
    v = v.reshape(-1).double()
    return _counts((v[v != 0].abs() / s_ref).log10(), HIST_EDGES)


def signed_hist(v: torch.Tensor, s_ref: float) -> torch.Tensor:
    """Counts of asinh(v / s_ref) in SIGNED_EDGES bins, plus underflow and overflow
    (every value, zeros included): len(SIGNED_EDGES) + 1 counts."""
    return _counts(torch.asinh(v.reshape(-1).double() / s_ref), SIGNED_EDGES)
