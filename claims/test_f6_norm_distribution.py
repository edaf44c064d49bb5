"""F6: large batches make both very large and very small updates, depending on
which samples are drawn; small batches make updates of about the same size.

The post plots, per batch size, the histogram of the trial norms rescaled by
mu_1024 / mu_i (all centred on BS1024's mean) and sees the histograms widen
as the batch grows, in the early and the late regime alike. No number given.

Protocol: the trials of F4 (harness/gradients.py), every reading and regime.
The distribution of norm / mean is scale-free, so "sum" and "mean" differ
only through the short last batch at BS 3, 5, 6, 7.

Rule (per reading and regime): the spread of the normalised distribution is
the interdecile range (q90 - q10) of norm / mean(norm) at each batch size;
the least-squares slope of log spread on log BS over the 15 batch sizes, with
a 90% bootstrap interval over trials, must lie above 0 (supported; below 0:
contradicted). The spread at BS2 and BS1024 is reported.
Primary readings (claims/post.py): the literal "sum" reading, early and late.
"""
import numpy as np

from claims import figures, post
from harness import gradients
from harness.expect import Known

FINDING = post.F6
KNOWN = ()

# --dataset fashion-mnist, quick scale, 3 seeds, measured on a 2-core Intel Xeon (2026-12-01).
KNOWN += tuple(
    Known("quick", f"test_normalised_spread_grows_with_batch_size[{r}-early]", "inconclusive", dataset="fashion-mnist",
          why="at the early start point the normalised spread hardly changes with batch size on Fashion-MNIST: the "
              "slope's interval over 32 trials reaches below 0 (late, it grows clearly)")
    for r in gradients.READINGS)


def spread(a):
    q10, q90 = np.quantile(a, [0.1, 0.9], axis=0)
    return (q90 - q10) / a.mean(0)


@figures.per_reading_and_regime
def test_normalised_spread_grows_with_batch_size(ctx, reading, ex, variant, regime):
    n = ex[regime]["norms"][variant]
    s = spread(n)
    v, est = figures.trend_verdict(n, spread, np.log(figures.GRAD_BS), log=True,
                                   rule="log-log slope of (q90-q10)/mean of the norm vs BS > 0",
                                   detail=f"interdecile/mean BS1 {s[0]:.4g}, BS2 {s[1]:.4g}, BS8 {s[7]:.4g}, "
                                          f"BS64 {s[10]:.4g}, BS1024 {s[-1]:.4g}")
    reading(v, f"[{variant}, {regime}] normalised norm distribution widens with batch size",
            post="histograms of normalised norms widen with BS, early and late",
            ours={"slope": est, "spread BS2": s[1], "spread BS1024": s[-1]},
            figures=[figures.norm_distribution(ctx, ex)], protocol=gradients.protocol_note(ctx, ex))
