"""L4 (beyond the post): grow the batch instead of decaying the learning rate.

Smith, Kindermans, Ying & Le (2018, arXiv:1711.00489), building on Smith & Le
(2018, arXiv:1710.06451), read the noise of SGD as a temperature set by the
noise scale g = lr (N/B - 1), about lr N / B when B << N (N: training set
size; with momentum m, divided by 1 - m). Decaying lr by a factor and growing
B by the same factor lower g alike, so they argue the two schedules give
equivalent test curves over the same number of epochs, the growing batch with
fewer parameter updates. (claims/literature.py.)

Protocol, plain SGD (the post's; the paper used momentum, which only
rescales g), the post's MLP, Glorot init, mean/std inputs, three arms of
PHASE_EPOCHS = (14, 8, 8) paper epochs ((7, 4, 4) at quick scale):
- "decaying lr": BS64 at lr 0.1, lr divided by 5 after each of the first two
  phases (at 47% and 73% of the epochs; LITERATURE.md's sketch says 50% and
  75%): 0.1 -> 0.02 -> 0.004;
- "growing batch": BS64 at lr 0.1, the batch multiplied by 5 at the same
  points: 64 -> 320 -> 1600, lr 0.1 throughout;
- "constant lr": BS64 at lr 0.1 throughout, the same 30 epochs: the control,
  which is F8's grid cell (trained for F8; its runs are read, not retrained).
The three arms of one seed share their initial weights and every epoch's
shuffle order, so their first phase is the same run, step for step.
Equal noise scale: lr N / B is 0.1 N/64, then 0.02 N/64 = 0.1 N/320, then
0.004 N/64 = 0.1 N/1600 in both schedules. The exact lr (N/B - 1) of the last
phase is 2.6% lower for the growing batch at paper scale (N = 60000: 3.65
against 3.75) and 20% lower at quick scale (N = 8000: 0.40 against 0.50),
where B = 1600 is a fifth of the training set: B << N holds at paper scale
only.

Readings, 90% t intervals of per-seed differences (paired: same init and
shuffle order, harness/verdicts.py):
- primary, "end" and "phase 2": test accuracy of the growing batch minus the
  decaying lr's, after the last epoch and after the middle phase (the claim
  is about the whole test curve). Equivalence (TOST): the interval must lie
  inside (-MARGIN, +MARGIN); contradicted if it lies wholly outside.
  MARGIN = post.SAME_ACCURACY_MARGIN = 0.5 points, the suite's one margin for
  "the same accuracy" (F2, F3, F9 judge it one-sided, their claims being "not
  worse"; the paper's claim here is "equivalent", so both sides).
  Assay sensitivity: an equivalence only says something if the experiment
  could have told the schedules apart. So "supported" also needs the decay to
  matter at that point: the interval of acc(decaying lr) - acc(constant lr)
  must lie wholly outside (-MARGIN, +MARGIN); if it does not, a TOST that
  passes reads inconclusive (the schedules are alike because nothing after
  the first phase changes the accuracy, not because the growing batch does
  what the decay does). Contradiction evidence (p_contra) is the TOST's.
- secondary: updates, steps(growing batch) / steps(decaying lr), fixed by the
  schedule and read from the records (a harness that ignored the batch size
  would show 1): supported if below 1.
Primary readings (claims/literature.py): "end" and "phase 2", standard inputs;
Holm across the two (harness/findings.py).

How the rule came to be (2026-12-01, this session). The first protocol,
declared before any L4 run, had phases (16, 8, 8) and no control, and judged
the TOST alone. At quick scale (3 seeds) the two schedules then differed by
0.00 [0.00, 0.00] points at the end and by 0.00 [-0.04, 0.04] at 75% (its
reading "75%", now "phase 2"): the
first phase at lr 0.1 already fits the 8000 training images (train loss 0.008
after 8 epochs) and no later change of lr or batch moves the weights (W
5.5824 in both arms of seed 0). A harness that ignored the batch size (the
growing batch kept at BS64, lr 0.1) would have passed the same way: that rule
could not fail here. A pilot (not cached) found no stable lr that keeps the
first phase from converging at BS64 (lr 0.2 and 0.3 converge as fast; 0.5
diverges: lambda_max is ~69 at the initial weights) nor at BS16 lr 0.1. So the
rule gained the control and the sensitivity condition, and the phases became
(14, 8, 8), 30 paper epochs, so that the control is the post's own BS64 lr 0.1
run. The change makes the rule stricter (a pass can become inconclusive,
never the reverse).

Nulls that fail the primaries (tests/test_nulls_l3_l4.py): a growing
batch that changes nothing (the batch size ignored) is the constant-lr arm: if
the decay matters it differs from the decaying arm by more than the margin
(contradicted); if the decay does not matter, the sensitivity condition makes
the reading inconclusive. The update ratio becomes 1 (not supported).

Cost (estimated by RunConfig.estimate_seconds from the README's quiet
single-thread step rates on the 2-core Intel Xeon): quick scale, 3 seeds: 6
new runs (the two schedules; the control is F8's) 63 core-seconds; measured
on that machine under a load average of about 9 (a paper campaign and other
sessions), 482 s. Paper scale, 5 seeds: 10 new runs, 1358 core-seconds (23
min on one core); the control's runs are F8's.
"""
import numpy as np
import pytest

from claims import figures, literature, post
from harness import plots, protocol, verdicts
from harness.claim import uses
from harness.expect import Known

FINDING = literature.L4
SCALINGS = protocol.INPUT_SCALINGS
MARGIN = post.SAME_ACCURACY_MARGIN  # 0.5 points: the suite's one "same accuracy" margin
BASE_BS, BASE_LR, FACTOR = 64, 0.1, 5  # the sketch: BS64 at lr 0.1, steps of 5x
PHASE_EPOCHS = (14, 8, 8)  # paper epochs per phase: 30, the control's (F8's BS64 lr 0.1); quick: 7, 4, 4
SCHEDULES = {  # name -> phases [(paper epochs, batch size, lr), ...]
    "decaying lr": [(e, BASE_BS, BASE_LR / FACTOR ** k) for k, e in enumerate(PHASE_EPOCHS)],
    "growing batch": [(e, BASE_BS * FACTOR ** k, BASE_LR) for k, e in enumerate(PHASE_EPOCHS)],
}
POINTS = {"phase 2": 2, "end": 3}  # reading -> phases completed (the epoch it reads: the end of that phase)

# Measured at quick scale, MNIST, 3 seeds, on a 2-core Intel Xeon (2026-12-01).
KNOWN = tuple(
    Known("quick", f"test_growing_batch_matches_decay[{point}-standard]", "inconclusive",
          why="the schedules agree closely, but so does the constant-lr control: the first phase at lr 0.1 "
              "fits the quick scale's training images, and neither the decay nor the batch growth changes the "
              "test accuracy after it (decay and constant about equal), so they cannot be told apart")
    for point in POINTS)

# --dataset fashion-mnist, quick scale, 3 seeds, same machine (2026-12-01; 2026-12-02).
KNOWN += (
    Known("quick", "test_growing_batch_matches_decay[phase 2-standard]", "inconclusive", dataset="fashion-mnist",
          why="the schedules agree closely, and on Fashion-MNIST the decay does help over constant lr, but with "
              "the few seeds that gain's interval reaches inside the 0.5-point margin, so the assay's "
              "sensitivity is not shown"),
    Known("quick", "test_growing_batch_matches_decay[end-standard]", ("inconclusive", "supported"),
          dataset="fashion-mnist",
          cpus="one 2-core Intel Xeon: inconclusive in the 2026-12-01 session (a cache of earlier sessions), "
               "supported in a fresh-cache session on 2026-12-02 (1 thread per worker)",
          why="the schedules agree closely, and the decay's gain over constant lr has an interval whose lower "
              "end sits at the 0.5-point margin: the runs' last bits decide whether the assay's sensitivity "
              "is shown, a fragile reading"),
)

# Paper scale, MNIST, 3 seeds, the campaign's published records (2026-12-02), 2-core Intel Xeon.
KNOWN += tuple(
    Known("paper", f"test_growing_batch_matches_decay[{point}-standard]", "inconclusive",
          why="as at quick scale: the schedules agree closely, but so does the constant-lr control, because "
              "the first phase at lr 0.1 already reaches the test accuracy that the decay or the batch growth "
              "keeps afterwards; the decay does not matter here, so the readings cannot tell the schedules apart")
    for point in POINTS)


def schedule_runs(scale, seeds, name, scaling=protocol.DEFAULT_SCALING):
    """One run of a schedule per seed."""
    protocol.check(scale, sum(PHASE_EPOCHS), scaling)
    return [protocol.schedule(scale, s, SCHEDULES[name], scaling=scaling) for s in seeds]


def arms(scale, seeds, scaling):
    """Both schedules and the control: BS64 at lr 0.1 for the same epochs (F8's grid cell)."""
    out = {name: schedule_runs(scale, seeds, name, scaling) for name in SCHEDULES}
    return out | {"constant lr": protocol.runs(scale, seeds, "sgd", BASE_BS, BASE_LR, sum(PHASE_EPOCHS),
                                              scaling=scaling)}


def phase_end(record, phases):
    """The epoch that ends the first `phases` phases of a run."""
    return sum(p["epochs"] for p in record["config"]["phases"][:phases])


def accuracy_at(record, epoch):
    """Test accuracy (points) after `epoch` (evaluated: every phase's end is)."""
    h = record["history"]
    return 100 * h["test_acc"][h["epoch"].index(epoch)]


def same_accuracy(growing, decaying, constant, point):
    """Per-seed test accuracies (points) of the two schedules and the control ->
    the TOST verdict, inconclusive where the decay does not matter (see the docstring)."""
    tost = verdicts.paired_equivalence(growing, decaying, MARGIN,
                                       what=f"acc(growing batch) - acc(decaying lr) at {point} [points]")
    d, (lo, hi) = verdicts.paired_diff(decaying, constant)
    matters = lo > MARGIN or hi < -MARGIN
    verdict = verdicts.INCONCLUSIVE if tost.supported and not matters else tost.verdict
    rule = (f"{tost.rule}; supported only if the decay matters: acc(decaying lr) - acc(constant lr) outside "
            f"+-{MARGIN:g} (paired t {verdicts.CONFIDENCE:.0%} CI)")
    sensitivity = (f"decay vs constant lr: {d:.3g} [{lo:.3g}, {hi:.3g}] points, "
                   f"{'outside' if matters else 'not outside'} +-{MARGIN:g}")
    return verdicts.Verdict(verdict, rule, tost.effect, tost.ci, tost.n, MARGIN,
                            detail=f"{tost.detail}; {sensitivity}", p_contra=tost.p_contra)


def fewer_updates(ratios):
    """Per-seed steps(growing) / steps(decaying): fixed by the schedule, so the interval is a point."""
    m, ci = verdicts.mean_ci(ratios)
    return verdicts.less(m, ci, 1.0, f"{len(ratios)} seeds", "steps(growing batch) / steps(decaying lr) < 1")


def draw(ctx, runs, scaling):
    """Test accuracy against epochs and against updates, both schedules, phase changes marked."""
    return figures.drawn_once(ctx, f"l4_schedules_{scaling}", lambda: _figure(ctx, runs, scaling))


def _figure(ctx, runs, scaling):
    fig, axes = plots.figure(2, 1)
    late = []
    for (name, recs), color in zip(runs.items(), ("tab:blue", "tab:orange", "tab:gray")):
        h = [r["history"] for r in recs]
        acc = 100 * np.asarray([x["test_acc"] for x in h], float)
        late.append(acc[:, len(acc[0]) // 3:])
        for ax, key in zip(axes, ("epoch", "step")):
            plots.band(ax, h[0][key][1:], acc[:, 1:], name, color)
            for k in (1, 2) if name in SCHEDULES else ():
                ax.axvline(h[0][key][h[0]["epoch"].index(phase_end(recs[0], k))], color=color, ls=":", lw=0.8)
    lo, hi = min(np.nanmin(a) for a in late), max(np.nanmax(a) for a in late)
    for ax, label in zip(axes, ("epoch", "parameter updates (SGD steps)")):
        ax.set(xlabel=label, ylabel="test accuracy [%]", ylim=(lo - 0.3, hi + 0.2))
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    fig.suptitle(f"L4: lr / {FACTOR} or batch x {FACTOR} after each of the first two phases (dotted), against "
                 f"constant lr ({scaling} inputs, {ctx.scale.name} scale; band = min..max over seeds)", fontsize=8)
    return fig


@uses(arms)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("point", list(POINTS))
def test_growing_batch_matches_decay(ctx, reading, runs, point, scaling):
    epoch = phase_end(runs["decaying lr"][0], POINTS[point])
    acc = {name: [accuracy_at(r, epoch) for r in recs] for name, recs in runs.items()}
    v = same_accuracy(acc["growing batch"], acc["decaying lr"], acc["constant lr"], point)
    reading(v, f"growing batch and decaying lr reach the same test accuracy after {POINTS[point]} of the "
               f"{len(PHASE_EPOCHS)} phases (epoch {epoch}), within {MARGIN} points",
            post="Smith et al. 2018: equivalent test curves over the same epochs", ours=acc, unit="%",
            figures=[draw(ctx, runs, scaling)])


@uses(arms)
@pytest.mark.parametrize("scaling", SCALINGS)
def test_growing_batch_takes_fewer_updates(ctx, reading, runs, scaling):
    steps = {name: [r["steps"] for r in runs[name]] for name in SCHEDULES}
    ratios = [g / d for g, d in zip(steps["growing batch"], steps["decaying lr"])]
    reading(fewer_updates(ratios), "the growing batch takes fewer parameter updates",
            post="Smith et al. 2018: the same epochs with fewer updates",
            ours={"updates, growing batch": steps["growing batch"][0], "updates, decaying lr": steps["decaying lr"][0],
                  "ratio": ratios[0]},
            figures=[draw(ctx, runs, scaling)])
