"""L1 (beyond the post): the steps SGD needs to reach a training-loss target
fall like 1/B at small batch sizes B and then level off (diminishing
returns); the bend, the critical batch size, sits near the gradient noise
scale; and the noise scale grows as the loss falls.

McCandlish, Kaplan, Amodei et al. (2018, arXiv:1812.06162) model the steps S
and examples E needed to reach a target as (S / S_min - 1)(E / E_min - 1) = 1,
i.e. S(B) = S_min (1 + B_crit / B) with B_crit = E_min / S_min, and find B_crit
close to the gradient noise scale, whose simple form is B_simple = tr(Sigma) /
|G|^2 (G the mean gradient, Sigma the per-example covariance), a quantity that
rises as training lowers the loss. Shallue, Lee, Antognini et al. (2019,
arXiv:1811.03600) measure steps-to-target against B with the learning rate
tuned per batch size: perfect scaling (slope -1 on log-log), then diminishing
returns, then a plateau. (claims/literature.py.)

The identity behind the noise scale (harness/noise_scale.py): at fixed
weights a batch-mean gradient of B examples drawn with replacement has
E|g_B|^2 = |G|^2 + tr(Sigma)/B (times (N - B)/(N - 1) without replacement from
N). What it implies for the post's F4 (claims/test_f4_gradient_norm.py): the
norm of one batch-mean gradient *falls* with B, to |G|; the post's vector sum
of the 1024/B batch-mean gradients over 1024 samples has, at fixed weights,
E|sum|^2 = (1024/B)^2 |G|^2 + 1024 tr(Sigma)/B^2, which falls like 1/B^2 at
every B, so its norm falls like 1/B (F4 measures exponents -0.72 early and
-0.89 late: the steps' own drift flattens it) and cannot grow like sqrt(B);
only B times one batch-mean gradient, the gradient of a summed loss, grows:
like sqrt(B) while B < B_simple, like B beyond. The table of this module puts
the identity's prediction beside F4's measured squared norms.

Protocol (SGD, constant lr, the post's MLP, mean/std inputs):
- batch sizes BATCH_SIZES; per batch size the lr grid LR_GRID, every value on
  the grid {0.01 * 2^k} plus the post's lr 0.1: the F1/F8 runs (lr 0.01 and
  0.1, 30 paper epochs) and L2's constant-lr rules (claims/literature.py:
  sqrt and linear scaling's lrs at BS256 and BS1024) are grid points, so the
  two claims share their runs; the other points run OWN_EPOCHS paper epochs;
- steps to target: the train loss (evaluated once per epoch on the scale's
  train-evaluation subset) is read where it first falls to TARGET_LOSS,
  linearly in log loss between the two evaluated epochs around it
  (harness/trajectory.at_loss, on the step count): a fractional step count.
  A run that never gets there (or diverges) is censored: it only says the
  target lies beyond its last step, and is listed as such. The tuned lr of a
  batch size is the grid value with the fewest steps on the first seed (a
  grid searched with one seed); every seed is then judged at that lr (the
  other seeds are trained there only). Where the fastest lr is the grid's
  largest (or smallest), the lr is not tuned yet: the grid grows by one 2x
  step on that side, and again while the new point is the fastest (at most
  MAX_EXTENSIONS steps; a diverged point ends it). A censored run counts as
  slower than the best if it diverged or, at its last evaluated step, its
  loss was no lower than the best run's there. A batch size where no lr
  reaches the target, or where a censored run stopped ahead of the best,
  has no tuned lr: that fails its readings with the reason.
- the fit: per seed, least squares of log S = log S_min + log(1 + B_crit/B)
  over the batch sizes (B_crit bounded to [1, 1e6]);
- the noise scale: B_simple of every parameter, two-batch estimator (B = 1
  and 1024 of each trial of 1024 samples, finite-pool factor), from
  (a) the F4 gradient experiment's records at its start points (BS1024 lr
  0.01 after 2 and 30 paper epochs, its trials paired), and (b) snapshots of
  NOISE_RUN (BS64 at lr 0.16, first seed; its snapshot weights) at the two
  evaluated epochs around the target, NOISE_TRIALS trials each
  (harness/noise_scale.NoiseSpec: the same sampler function, the same draws).
  B_simple at the target: linear in log B_simple against log train loss
  between those two; a 90% bootstrap interval over trials (paired).

Fixed before the judged runs (2026-12-01), from a one-seed pilot of the loss
curves (seed 0: BS16 at lr 0.02/0.04, BS64 at 0.16/0.32, BS1024 at 0.32/0.64
and L2's runs) chosen for feasibility only: the target is the lowest round
loss that the fastest small-batch runs reach no earlier than their third
evaluation (so each steps count interpolates between evaluated epochs >= 2),
and the run lengths give the large batches room to reach it. No fit, slope or
noise scale was computed before these were fixed; the margins below come
from the papers' words, not from data. Amended the same day: the first
judged session found the fastest lr at the top of the grid for BS16 (0.08)
and BS64 (0.32), i.e. the lr not tuned there, with the small-batch slope
-0.76 [-0.85, -0.66] (inconclusive); the edge rule above was added before
its runs were read. Its two extensions pull that slope opposite ways (a
faster BS16 flattens it, a faster BS64 steepens it). To fit the CI share,
two grid points that were never the fastest were then dropped (BS16 at lr
0.02, BS256 at 0.16: with the edge rule the grid stays bracketed), and the
BS64 points run the post's 30 epochs so the tuned-lr control below tunes
BS64 over as wide a grid as the larger batches (a first version, with BS64
tuned over lr 0.01 and 0.1 only, had BS256 beat it).

Readings (primary: claims/literature.py):
- perfect scaling at small batches: per seed, the log-log slope of S between
  the two smallest batch sizes; 90% t interval over seeds inside
  PERFECT_SLOPE +- PERFECT_MARGIN (-1 +- 0.25: doubling the batch then saves
  at least 2^0.75 = 1.7x the steps, where perfect scaling saves 2x; under the
  paper's model the slope is -0.8 at B = B_crit/4) supported, wholly outside
  contradicted;
- diminishing returns at large batches: the slope between the two largest
  batch sizes above DIMINISHING_SLOPE = -0.5 (halfway between perfect scaling
  and no gain: doubling the batch saves less than 1.41x the steps); below it
  contradicted;
- B_crit near the noise scale: log10(B_crit / B_simple at the target), 90% t
  interval over seeds' fits (B_simple's own bootstrap interval in the
  detail), inside +-log10(FACTOR) with FACTOR = 10 (McCandlish et al. call the
  noise scale a prediction of the critical batch size to within an order of
  magnitude across their tasks; unverified against the PDF) supported,
  wholly outside contradicted;
- the noise scale grows as the loss falls: log(B_simple late / early) at the
  F4 start points, paired bootstrap over trials, above 0.
Secondary: the tuned-lr control of F1/F2 (whether test accuracy after the
post's 30 epochs still falls with the batch size when each batch size takes
its best lr among those every seed ran for 30 paper epochs or more; F1's
rule), and a table with the grid, the fit and the F4 identity check.

Seeds: 3 (the quick default) give the slopes' interval a half-width near
0.08 at the seed-to-seed SD of log steps measured on the F8 runs (0.02-0.1;
verdicts.seeds_for_precision(0.05, 0.125) = 3), against margins of 0.25 and
1 decade.

Measured at quick scale (MNIST, 3 seeds, 2026-12-01): target train loss
0.05; tuned lr BS16 0.08, BS64 0.32, BS256 0.32, BS1024 0.32 (the largest
that does not diverge: 0.64 diverges at BS64/256/1024); steps to the target
about 1100 / 390 / 163 / 136; slope BS16->64 -0.76 [-0.85, -0.66]
(inconclusive against -1 +- 0.25), BS256->1024 -0.13 [-0.19, -0.07]
(supported); B_crit 123-181 against B_simple 439 [418, 462] at the target,
log10 ratio -0.49 [-0.65, -0.34] (supported: within 10x, B_crit a third of
B_simple); B_simple 136 at train loss 1.84 and 1654 at 0.48 (F4's start
points; supported). With the lr tuned, test accuracy after 30 epochs still
falls with the batch size: 96.5 / 96.2 / 95.0 (BS64 / 256 / 1024).
Caveat (the figure's right panel): B_simple is not a function of the loss
alone. Along F4's start run (BS1024 at lr 0.01, far from tuned) it is 1654
at train loss 0.48; along the tuned BS64 run 225 at 0.10 and 456 at 0.05.
It grows as the loss falls within a run, but at equal loss differs several-
fold between trajectories, so "B_simple at the target" depends on the run it
is read along: L1 reads it along a run at a tuned lr (NOISE_RUN, fixed
before the judged runs), as McCandlish et al. measure it in tuned training;
along F4's run it is already 12x B_crit at loss 0.48, above the target.

Cost: L1's new quick training, with L2's (which shares its runs), is about
315 core-seconds on an unloaded 2-core CI machine (RunConfig.estimate_seconds
from the README benchmark's step rates, the estimate that gives the CI's
measured total for the rest of the quick suite): 38 new runs and 2 noise-scale
checkpoints, L1's part about 146 s. Measured here under a load average of
5-10, their wall times sum to 2274 s (inflated ~7x). Paper scale: about
0.8 core-hours for L1 (5 seeds; more if its grid grows at an edge), 1.6 for
L2 (estimates, same step rates).
"""
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import least_squares

from claims import literature
from harness import gradients, noise_scale, plots, protocol, trajectory, verdicts
from harness.claim import uses
from harness.errors import NotAtThisScale
from harness.expect import Known

FINDING = literature.L1
BATCH_SIZES = (16, 64, 256, 1024)
# The lr grid per batch size: every value is 0.01 * 2^k or the post's 0.1; the shared runs' lrs (F1/F8's
# 0.01 and 0.1, L2's sqrt and linear lrs) cost nothing, the others are L1's own runs, and the edge rule
# (extend) adds 2x steps beyond a grid edge that holds the fastest lr.
LR_GRID = {16: (0.04, 0.08),
           64: (0.01, 0.1, 0.16, 0.32),
           256: (0.01, 0.02, 0.04, 0.1, 0.32, 0.64),
           1024: (0.01, 0.04, 0.1, 0.16, 0.32, 0.64)}
SHARED_EPOCHS = 30                               # the post's epochs: F1/F8's and L2's runs
# Paper epochs of the grid points L1 adds: room to reach the target (BS16 reaches it in about 2 of its
# 4 quick epochs, BS1024 in about 17 of its 20), and the post's 30 at BS64 and BS256, where the tuned-lr
# control of F1/F2 reads their test accuracy after 30 epochs.
OWN_EPOCHS = {16: 8, 64: 30, 256: 30, 1024: 40}
TARGET_LOSS = {"quick": 0.05, "paper": 0.01}     # train loss; paper's provisional (no paper run yet)
NOISE_RUN = (64, 0.16)                           # (BS, lr) of the run whose snapshots give B_simple
NOISE_TRIALS = {"quick": 16, "paper": 64}
NOISE_EPOCHS = 8                                 # paper epochs of NOISE_RUN with a snapshot after each
PERFECT_SLOPE, PERFECT_MARGIN = -1.0, 0.25
DIMINISHING_SLOPE = -0.5
FACTOR = 10.0                                    # B_crit / B_simple allowed either way
MAX_EXTENSIONS = 3                               # 2x steps added beyond a grid edge that holds the best lr
B_CRIT_BOUNDS = (1.0, 1e6)
REGIMES = {"perfect at small batches": BATCH_SIZES[:2], "diminishing at large batches": BATCH_SIZES[-2:]}

# Measured at quick scale, MNIST, 3 seeds, on a 2-core Intel Xeon (2026-12-01).
KNOWN = (
    Known("quick", "test_steps_to_target_scaling[perfect at small batches]", "inconclusive",
          why="from BS16 to BS64 each doubling cuts the steps by somewhat less than perfect scaling's halving, a "
              "slope on the margin's edge: the interval straddles that edge, the seeds' BS16 step counts spreading "
              "widely; the fitted curve puts the slope there just inside the margin"),
)


# -- the runs --------------------------------------------------------------------
def shared_runs():
    """(BS, lr) of the 30-epoch constant-lr runs other claims declare: F1/F8's
    (lr 0.01 and 0.1 at BS 64/256/1024) and L2's sqrt and linear rules."""
    out = {(bs, lr) for bs in (64, 256, 1024) for lr in (0.01, 0.1)}
    return out | {(bs, literature.scaled_lr(r, bs)) for r in ("sqrt", "linear") for bs in literature.L2_BATCH_SIZES}


def run_epochs(bs, lr) -> int:
    return SHARED_EPOCHS if (bs, lr) in shared_runs() else OWN_EPOCHS[bs]


def spec(scale, seed, bs, lr):
    """One grid point's run; NOISE_RUN on the first seed keeps a snapshot after each of its first epochs."""
    run = protocol.schedule(scale, seed, [(run_epochs(bs, lr), bs, lr)])
    if (bs, lr) == NOISE_RUN and seed == 0:
        run = replace(run, snapshots=tuple(range(1, scale.epochs(NOISE_EPOCHS) + 1)))
    return run


def grid(scale, seeds):
    """{bs: {lr: spec of the first seed}}: the grid search (MNIST only: the loss target and the run
    lengths were fixed from MNIST's loss curves)."""
    if scale.dataset != "mnist":
        raise NotAtThisScale(f"the train-loss target {TARGET_LOSS[scale.name]:g} and the run lengths were fixed "
                             f"from MNIST's loss curves; on {scale.dataset} they mean something else")
    return {bs: {lr: spec(scale, seeds[0], bs, lr) for lr in LR_GRID[bs]} for bs in BATCH_SIZES}


# -- steps to target --------------------------------------------------------------
def steps_to_target(record, target):
    """Fractional SGD steps at which the train loss first falls to target, or
    None (censored: not reached in the run, or diverged)."""
    hit = trajectory.at_loss(record["history"], target, keys=("step",))
    return None if hit is None else float(hit["step"])


def evaluations_before(record, target):
    """How many evaluated epochs >= 1 the run logged up to and including the one that reached target."""
    losses = [x for e, x in zip(record["history"]["epoch"], record["history"]["train_loss"])
              if e >= 1 and isinstance(x, float) and math.isfinite(x)]
    return next((i + 1 for i, x in enumerate(losses) if x <= target), None)


def _evaluated(record):
    """(steps, train losses) of the evaluated epochs, finite ones only."""
    h = record["history"]
    pts = [(st, x) for st, x in zip(h["step"], h["train_loss"]) if isinstance(x, float) and math.isfinite(x)]
    return np.array([p[0] for p in pts], float), np.array([p[1] for p in pts], float)


def behind(censored, best) -> bool:
    """A censored run counts as slower than the best one if it diverged, or if
    at its last evaluated step its train loss is no lower than the best run's
    there (interpolated in log loss): it would have to overtake the best one
    after it stopped."""
    if censored.get("diverged_at"):
        return True
    st, loss = _evaluated(censored)
    bst, bloss = _evaluated(best)
    return bool(loss[-1] >= math.exp(np.interp(st[-1], bst, np.log(bloss))))


def extend(by_lr, target, more):
    """Add grid points while the fastest lr sits at the grid's edge: one 2x step
    beyond it (more(lr) -> that run's record), up to MAX_EXTENSIONS per side.
    A best lr at the edge means the lr was not tuned; the step beyond can move
    steps-to-target either way. Returns by_lr with the added records."""
    by_lr = dict(by_lr)
    for _ in range(MAX_EXTENSIONS):
        steps = {lr: steps_to_target(r, target) for lr, r in by_lr.items()}
        reached = {lr: x for lr, x in steps.items() if x is not None}
        if not reached:
            return by_lr
        best = min(reached, key=reached.get)
        lrs = sorted(by_lr)
        if best == lrs[-1]:
            new = literature._lr(best * 2)
        elif best == lrs[0]:
            new = literature._lr(best / 2)
        else:
            return by_lr
        by_lr[new] = more(new)
    return by_lr


def tune(grid_records, target):
    """{bs: (best lr, its steps, {lr: steps or None}, why)}: the grid's best lr
    per batch size (first seed). why names what makes the best undetermined:
    no lr reaches the target, or a run that did not reach it stopped before
    the best one did while still ahead of it (see behind)."""
    out = {}
    for bs, by_lr in grid_records.items():
        steps = {lr: steps_to_target(r, target) for lr, r in sorted(by_lr.items())}
        reached = {lr: s for lr, s in steps.items() if s is not None}
        if not reached:
            out[bs] = (None, None, steps, f"BS{bs}: no lr of the grid reaches train loss {target:g}")
            continue
        best = min(reached, key=reached.get)
        ahead = [lr for lr, s in steps.items() if s is None and by_lr[lr]["steps"] < reached[best]
                 and not behind(by_lr[lr], by_lr[best])]
        why = (f"BS{bs}: lr {', '.join(f'{x:g}' for x in ahead)} stopped before lr {best:g} reached the target, "
               f"still ahead of it: the best lr is undetermined") if ahead else ""
        out[bs] = (best, reached[best], steps, why)
    return out


def fit_critical(bs, steps):
    """(S_min, B_crit): least squares of log S = log S_min + log(1 + B_crit/B)."""
    b, s = np.asarray(bs, float), np.asarray(steps, float)

    def resid(p):
        return p[0] + np.log1p(np.exp(p[1]) / b) - np.log(s)
    lo, hi = np.log(B_CRIT_BOUNDS)
    x0 = [np.log(s.min()), np.log(np.sqrt(b.min() * b.max()))]
    res = least_squares(resid, x0, bounds=([-np.inf, lo], [np.inf, hi]))
    return float(np.exp(res.x[0])), float(np.exp(res.x[1]))


def local_slope(bs_pair, steps_pair):
    (b0, b1), (s0, s1) = bs_pair, steps_pair
    return math.log(s1 / s0) / math.log(b1 / b0)


# -- the noise scale ---------------------------------------------------------------
def f4_noise(ex, param="all"):
    """{regime: (B_simple, CI, mean trial loss)} at the F4 start points."""
    out = {}
    for regime in ("early", "late"):
        d = ex[regime]
        est, ci = noise_scale.from_trials_ci(d["batch_sq"][param], d["batch_sizes"], d["pool"])
        out[regime] = (est, ci, float(np.mean(d["start_loss"])))
    return out


def bracket(record, target, epochs):
    """Two of `epochs` (evaluated, >= 1) whose train losses bracket target at its first crossing, or None."""
    h = record["history"]
    pts = [(e, x) for e, x in zip(h["epoch"], h["train_loss"])
           if e in epochs and isinstance(x, float) and math.isfinite(x)]
    return next(((a, b) for a, b in zip(pts, pts[1:]) if a[1] >= target >= b[1] and a[1] > b[1]), None)


def noise_at_target(ctx, run, record, target):
    """B_simple at the target loss: (estimate, CI, [(epoch, train loss, B_simple)]), or None when the
    run's snapshots do not bracket it."""
    pair = bracket(record, target, run.snapshots)
    if pair is None:
        return None
    trials = NOISE_TRIALS[ctx.scale.name]
    recs = ctx.records([noise_scale.NoiseSpec(run, e, trials) for e, _ in pair])
    sq = [r["batch_sq"]["all"] for r in recs]
    bs, pool = recs[0]["batch_sizes"], recs[0]["pool"]
    (la, lb) = (math.log(pair[0][1]), math.log(pair[1][1]))
    w = (la - math.log(target)) / (la - lb)

    def at_target(a, b):
        return math.exp((1 - w) * math.log(noise_scale.from_trials(a, bs, pool))
                        + w * math.log(noise_scale.from_trials(b, bs, pool)))
    est, ci = verdicts.bootstrap_rows(at_target, sq[0], sq[1])
    points = [(e, loss, noise_scale.from_trials(s, bs, pool)) for (e, loss), s in zip(pair, sq)]
    return est, ci, points


# -- the analysis every reading shares (once per session) ----------------------------
_ANALYSIS = {}


def analysis(ctx, grid_records):
    key = (str(ctx.report_dir), ctx.scale.name, tuple(ctx.seeds))
    if key not in _ANALYSIS:
        _ANALYSIS[key] = _analyse(ctx, grid_records)
    return _ANALYSIS[key]


def _analyse(ctx, grid_records):
    target = TARGET_LOSS[ctx.scale.name]
    first = ctx.seeds[0]
    grid_records = {bs: extend(by_lr, target, lambda lr, bs=bs: ctx.records([spec(ctx.scale, first, bs, lr)])[0])
                    for bs, by_lr in grid_records.items()}
    tuned = tune(grid_records, target)
    problems = [t[3] for t in tuned.values() if t[3]]
    per_seed = {}  # seed -> {bs: steps or None}
    if not problems:
        for seed in ctx.seeds:
            specs = [spec(ctx.scale, seed, bs, tuned[bs][0]) for bs in BATCH_SIZES]
            per_seed[seed] = {bs: steps_to_target(r, target) for bs, r in zip(BATCH_SIZES, ctx.records(specs))}
    complete = {s: v for s, v in per_seed.items() if all(x is not None for x in v.values())}
    problems += [f"seed {s}: BS{bs} at its tuned lr does not reach the target" for s, v in per_seed.items()
                 for bs, x in v.items() if x is None]
    fits = {s: fit_critical(BATCH_SIZES, [v[bs] for bs in BATCH_SIZES]) for s, v in complete.items()}
    ref = spec(ctx.scale, ctx.seeds[0], *NOISE_RUN)
    noise = noise_at_target(ctx, ref, grid_records[NOISE_RUN[0]][NOISE_RUN[1]], target)
    if noise is None:
        problems.append(f"the snapshots of {ref.describe()} do not bracket train loss {target:g}")
    return {"target": target, "tuned": tuned, "per_seed": per_seed, "complete": complete, "fits": fits,
            "noise": noise, "problems": problems, "ref": ref, "grid": grid_records}


def _undefined(rule, why):
    return verdicts.Verdict(verdicts.INCONCLUSIVE, rule, math.nan, verdicts.NAN, "0 seeds", math.nan, detail=why)


def _tuned_text(a):
    return "; ".join(f"BS{bs} lr {t[0]:g}" if t[0] is not None else f"BS{bs} none" for bs, t in a["tuned"].items())


# -- the figure ---------------------------------------------------------------------
def draw(ctx, a, grid_records, f4):
    fig, axes = plots.figure(2, 1, size=(5.2, 4.0))
    ax = axes[0]
    for bs, (_, _, steps, _) in a["tuned"].items():
        xs = [bs] * len(steps)
        ys = [s if s is not None else np.nan for s in steps.values()]
        ax.plot(xs, ys, "o", color="0.75", ms=3, label="grid, first seed (each lr)" if bs == BATCH_SIZES[0] else None)
    b = np.asarray(BATCH_SIZES, float)
    if a["complete"]:
        s = np.array([[v[bs] for bs in BATCH_SIZES] for v in a["complete"].values()])
        ax.errorbar(b, s.mean(0), yerr=[s.mean(0) - s.min(0), s.max(0) - s.mean(0)], fmt="o", color="tab:blue",
                    capsize=2, label=f"tuned lr, mean (min..max of {len(s)} seeds)")
        s_min, b_crit = fit_critical(BATCH_SIZES, np.exp(np.log(s).mean(0)))
        bb = np.geomspace(b[0] / 2, b[-1] * 2, 100)
        ax.plot(bb, s_min * (1 + b_crit / bb), "-", color="tab:red", label=f"S_min (1 + B_crit/B), B_crit {b_crit:.3g}")
        ax.plot(bb, s.mean(0)[0] * b[0] / bb, ":", color="k", label="perfect scaling (slope -1)")
        ax.axvline(b_crit, color="tab:red", ls="--", lw=0.8)
    if a["noise"] is not None:
        ax.axvline(a["noise"][0], color="tab:green", ls="--", lw=0.8, label=f"B_simple at target {a['noise'][0]:.3g}")
    ax.set(xscale="log", yscale="log", xlabel="batch size", ylabel=f"SGD steps to train loss {a['target']:g}")
    ax.legend(fontsize=6)
    ax = axes[1]
    pts = [(v[2], v[0], "F4 start points (BS1024 lr 0.01)", "tab:purple") for v in f4.values()]
    if a["noise"] is not None:
        pts += [(loss, bsimple, f"BS{NOISE_RUN[0]} lr {NOISE_RUN[1]:g} snapshots", "tab:green")
                for _, loss, bsimple in a["noise"][2]]
        ax.errorbar([a["target"]], [a["noise"][0]], yerr=[[a["noise"][0] - a["noise"][1][0]],
                                                         [a["noise"][1][1] - a["noise"][0]]],
                    fmt="s", color="tab:red", capsize=2, label="interpolated at the target")
    for label in dict.fromkeys(p[2] for p in pts):
        sel = [p for p in pts if p[2] == label]
        ax.plot([p[0] for p in sel], [p[1] for p in sel], "o", color=sel[0][3], label=label)
    ax.axvline(a["target"], color="k", ls=":", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel="train loss (mean over the trials' samples / evaluated)",
           ylabel="B_simple (all parameters)")
    ax.invert_xaxis()
    ax.legend(fontsize=6)
    fig.suptitle(f"L1: steps to target vs batch size (lr tuned per BS) and the noise scale "
                 f"({ctx.scale.name} scale)", fontsize=9)
    return plots.save(fig, ctx.report_dir, "l1_critical_batch_size")


_DRAWN = {}


def figure(ctx, a, grid_records, ex):
    key = str(ctx.report_dir)
    if key not in _DRAWN:
        _DRAWN[key] = draw(ctx, a, grid_records, f4_noise(ex))
    return _DRAWN[key]


def with_f4(scale, seeds):
    """The grid and the F4 gradient experiment (the noise scale's start points)."""
    return {"grid": grid(scale, seeds), "f4": gradients.required(scale, seeds)}


# -- the readings ---------------------------------------------------------------------
def scaling_verdict(regime, per_seed, detail=""):
    """The slope reading of a regime from {seed: {bs: steps}}."""
    pair = REGIMES[regime]
    slopes = [local_slope(pair, (v[pair[0]], v[pair[1]])) for v in per_seed.values()]
    perfect = regime.startswith("perfect")
    rule = (f"log-log slope of steps-to-target, BS{pair[0]}->BS{pair[1]}, "
            + (f"within {PERFECT_SLOPE:g} +- {PERFECT_MARGIN:g}" if perfect else f"> {DIMINISHING_SLOPE:g}")
            + " (t 90% CI over seeds)")
    if len(slopes) < 2:
        return _undefined(rule, detail or "fewer than 2 seeds")
    m, ci = verdicts.mean_ci(slopes)
    detail = "; ".join(x for x in (detail, f"per-seed slopes {', '.join(f'{x:.3f}' for x in slopes)}") if x)
    if perfect:
        return verdicts.within(m, ci, PERFECT_SLOPE, PERFECT_MARGIN, f"{len(slopes)} seeds", rule, detail)
    return verdicts.greater(m, ci, DIMINISHING_SLOPE, f"{len(slopes)} seeds", rule, detail)


def critical_verdict(b_crits, b_simple, detail=""):
    """log10(B_crit / B_simple) over seeds inside +-log10(FACTOR)."""
    rule = (f"|log10(B_crit / B_simple at the target)| < log10({FACTOR:g}) (t 90% CI over seeds' fits; "
            f"contradicted wholly outside)")
    if len(b_crits) < 2 or not b_simple or not math.isfinite(b_simple) or b_simple <= 0:
        return _undefined(rule, detail or "fewer than 2 seeds, or no B_simple")
    m, ci = verdicts.mean_ci([math.log10(c / b_simple) for c in b_crits])
    return verdicts.within(m, ci, 0.0, math.log10(FACTOR), f"{len(b_crits)} seeds", rule, detail)


def growth_verdict(late_sq, early_sq, batch_sizes, pool, detail=""):
    """log(B_simple late / early) above 0, paired bootstrap over trials (rows)."""
    def log_ratio(lt, er):
        return math.log(noise_scale.from_trials(lt, batch_sizes, pool) / noise_scale.from_trials(er, batch_sizes, pool))
    est, ci = verdicts.bootstrap_rows(log_ratio, late_sq, early_sq)
    return verdicts.greater(est, ci, 0.0, f"{len(late_sq)} paired trials",
                            "log(B_simple late / B_simple early) > 0 (90% paired bootstrap CI over trials)", detail)


@uses(with_f4)
@pytest.mark.parametrize("regime", list(REGIMES))
def test_steps_to_target_scaling(ctx, reading, runs, ex, regime):
    a = analysis(ctx, runs["grid"])
    detail = "; ".join(a["problems"]) or f"tuned lr (first seed's grid): {_tuned_text(a)}"
    v = scaling_verdict(regime, a["complete"], detail)
    pair = REGIMES[regime]
    steps = {f"BS{bs}": [s[bs] for s in a["complete"].values()] for bs in pair}
    reading(v, f"steps to train loss {a['target']:g}, lr tuned per BS: {regime}", ours=steps,
            post="Shallue et al.: perfect scaling (slope -1), then diminishing returns",
            figures=[figure(ctx, a, runs["grid"], ex)])


@uses(with_f4)
def test_critical_batch_near_noise_scale(ctx, reading, runs, ex):
    a = analysis(ctx, runs["grid"])
    crit = [f[1] for f in a["fits"].values()]
    if a["noise"] is None or a["problems"]:
        v, ours = critical_verdict(crit, None, "; ".join(a["problems"])), {}
    else:
        b_simple, b_ci, pts = a["noise"]
        at = " and ".join(f"{e} (loss {loss:.3g}, B_simple {b:.4g})" for e, loss, b in pts)
        detail = (f"B_crit per seed {', '.join(f'{c:.3g}' for c in crit)} (S_min "
                  f"{', '.join(f'{f[0]:.3g}' for f in a['fits'].values())}); B_simple at train loss {a['target']:g} "
                  f"{b_simple:.4g} [{b_ci[0]:.4g}, {b_ci[1]:.4g}] (bootstrap over trials), from epochs {at} of "
                  f"{a['ref'].describe()}; tuned lr {_tuned_text(a)}")
        v, ours = critical_verdict(crit, b_simple, detail), {"B_crit": crit, "B_simple": b_simple}
    reading(v, f"the critical batch size lies within {FACTOR:g}x of the noise scale B_simple", ours=ours,
            post="McCandlish et al.: B_crit ~ B_noise, predicted by B_simple",
            figures=[figure(ctx, a, runs["grid"], ex)])


@uses(gradients.required)
def test_noise_scale_grows_as_loss_falls(ctx, reading, ex):
    assert ex["early"]["trials"] == ex["late"]["trials"]  # paired draws
    f4, w3 = f4_noise(ex), f4_noise(ex, "W3")
    detail = "; ".join(f"{r}: train loss {f4[r][2]:.3g}, B_simple {f4[r][0]:.4g} [{f4[r][1][0]:.4g}, "
                       f"{f4[r][1][1]:.4g}] (last layer alone {w3[r][0]:.4g})" for r in ("early", "late"))
    d = ex["early"]
    where = gradients.protocol_note(ctx, ex)["start"]
    v = growth_verdict(ex["late"]["batch_sq"]["all"], d["batch_sq"]["all"], d["batch_sizes"], d["pool"],
                       f"{detail}; at the F4 gradient experiment's start points ({where})")
    reading(v, "the noise scale B_simple grows as the training loss falls",
            ours={"B_simple early": f4["early"][0], "B_simple late": f4["late"][0]},
            post="McCandlish et al.: the noise scale increases as the loss decreases",
            protocol=gradients.protocol_note(ctx, ex))


# -- the tuned-lr control of the post's F1/F2 -------------------------------------------
def tuned_accuracy_runs(scale, seeds):
    """{bs: {lr: runs of every seed}} of the constant-lr runs of 30 paper epochs
    or more that every seed has: F1/F8's, L2's sqrt and linear rules'."""
    lrs = {bs: sorted({lr for b, lr in shared_runs() if b == bs}) for bs in (64, 256, 1024)}
    return {bs: {lr: [spec(scale, s, bs, lr) for s in seeds] for lr in lrs[bs]} for bs in lrs}


def accuracy_at(record, paper_epochs, scale):
    """Test accuracy (points) after `paper_epochs` of a run at least that long."""
    e = scale.epochs(paper_epochs)
    h = record["history"]
    return 100 * h["test_acc"][h["epoch"].index(e)] if e in h["epoch"] else math.nan


def control_runs(scale, seeds):
    return {"acc": tuned_accuracy_runs(scale, seeds), "grid": grid(scale, seeds)}


@uses(control_runs)
def test_tuned_lr_accuracy_falls_with_batch_size(ctx, reading, runs):
    """Secondary: F1's rule at each batch size's best lr (by mean test accuracy over seeds)."""
    a = analysis(ctx, runs["grid"])
    cand = {bs: {lr: [accuracy_at(r, 30, ctx.scale) for r in rs] for lr, rs in by_lr.items()}
            for bs, by_lr in runs["acc"].items()}
    for bs in cand:  # the tuned-steps lr, run on every seed, joins when it ran 30 paper epochs or more
        lr = a["tuned"][bs][0]
        if lr is not None and lr not in cand[bs] and run_epochs(bs, lr) >= 30:
            cand[bs][lr] = [accuracy_at(r, 30, ctx.scale) for r in
                            ctx.records([spec(ctx.scale, s, bs, lr) for s in ctx.seeds])]
    best = {bs: max(c, key=lambda lr: np.mean(c[lr])) for bs, c in cand.items()}
    acc = {bs: cand[bs][best[bs]] for bs in cand}
    grids = "; ".join(f"BS{bs} {{{', '.join(f'{lr:g}' for lr in sorted(c))}}} -> {best[bs]:g}"
                      for bs, c in cand.items())
    v = verdicts.monotone(list(acc), list(acc.values()), increasing=False, paired=True,
                          what="best acc(BS64) - best acc(BS1024) [points]",
                          detail=f"best lr per BS (mean over seeds) among {grids}; selected on the test accuracy it "
                                 f"reports, optimistic for every arm alike")
    reading(v, "with the lr tuned per batch size, test accuracy after 30 epochs still falls with the batch size",
            ours={f"BS{bs} (lr {best[bs]:g})": x for bs, x in acc.items()}, unit="%",
            post="F1: accuracy falls with BS at lr 0.01; Shallue et al.: no degradation once tuned")


# -- the table (not a verdict) ---------------------------------------------------------------
def grid_table(a, grid_records, scale):
    lines = ["| BS | lr | steps to the target, first seed | evaluations | test accuracy after 30 paper epochs, "
             "first seed [%] |", "|---|---|---|---|---|"]
    for bs in BATCH_SIZES:
        best, _, steps, _ = a["tuned"][bs]
        for lr in sorted(a["grid"][bs]):
            r = a["grid"][bs][lr]
            s = steps[lr]
            where = "not reached (censored)" if s is None else f"{s:.0f}"
            n = evaluations_before(r, a["target"])
            acc = accuracy_at(r, 30, scale) if run_epochs(bs, lr) >= 30 else math.nan
            mark = " (tuned)" if lr == best else "" if lr in LR_GRID[bs] else " (added: edge)"
            lines.append(f"| {bs} | {lr:g}{mark} | {where} | {n or '-'} | "
                         f"{'-' if math.isnan(acc) else f'{acc:.2f}'} |")
    return lines


def identity_check(ex, b=64):
    """F4's measured mean |g_B|^2 at BS b against the identity's prediction from BS1 and BS1024."""
    out = []
    for regime in ("early", "late"):
        d = ex[regime]
        sq = d["batch_sq"]["all"]
        pred = noise_scale.predicted_sq(sq, d["batch_sizes"], d["pool"], b)
        out.append(f"{regime}: predicted {pred:.4g}, measured {sq[:, list(d['batch_sizes']).index(b)].mean():.4g}")
    return "; ".join(out)


@uses(with_f4)
def test_l1_table(ctx, record, runs, ex):
    a = analysis(ctx, runs["grid"])
    fits = a["fits"]
    seeds = "; ".join(f"seed {s}: " + ", ".join(f"BS{bs} {x:.0f}" if x is not None else f"BS{bs} not reached"
                                                for bs, x in v.items()) for s, v in a["per_seed"].items())
    note = (f"Target: train loss {a['target']:g}. The tuned lr per batch size is the first seed's fastest; every "
            f"seed at that lr: {seeds or '-'}. Fits S = S_min (1 + B_crit / B): "
            + (", ".join(f"seed {s}: S_min {f[0]:.3g}, B_crit {f[1]:.3g}" for s, f in fits.items()) or "none")
            + ". " + ("; ".join(a["problems"]) + ". " if a["problems"] else "")
            + "The identity E|g_B|^2 = |G|^2 + tr(Sigma) c(B) on F4's records (all parameters, BS64, from the "
              f"two-batch estimates at BS1 and BS1024): {identity_check(ex)}. For the post's F4 it means that a "
              "batch-mean gradient's norm falls with the batch size and the vector sum of 1024/B of them falls "
              "like 1/B at fixed weights: no sqrt(B) growth unless the loss is summed over the batch.")
    record("table", finding=FINDING.id, title=f"steps to the target over the lr grid ({ctx.scale.name} scale)",
           text="\n".join(grid_table(a, runs["grid"], ctx.scale)), note=note)
