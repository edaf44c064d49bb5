"""L2 (beyond the post): scale the learning rate with the batch size and a
large batch keeps the small batch's accuracy at the same epoch budget.

Goyal, Dollar, Girshick et al. (2017, arXiv:1706.02677) multiply the lr by k
when the batch grows k-fold (linear scaling), after a gradual warmup: over
the first 5 of 90 epochs the lr rises linearly, iteration by iteration, from
the small batch's lr to the scaled one. With it ResNet-50 on ImageNet keeps
its accuracy from batch 256 to 8k (32x) and degrades beyond. Hoffer, Hubara &
Soudry (2017, arXiv:1705.08741) scale the lr by sqrt(k) instead (and add
steps: "regime adaptation", which a fixed epoch budget leaves out).
(claims/literature.py.)

Protocol: the post's base, SGD at lr 0.01 on BS64 for the post's 30 epochs
(15 at quick scale), mean/std inputs; at BS256 and BS1024 (and 4096 at paper
scale only: at quick scale it would be half of the 8000 training images per
step) the same 30 epochs under each rule of claims/literature.py RULES:
constant lr 0.01 (exactly F1's runs, shared), sqrt (lr 0.01 sqrt(B/64)),
linear (0.01 B/64), linear+warmup (claims/literature.py rule_phases). The
warmup is phases of whole epochs: the first WARMUP_EPOCHS = 4 of the 30 (2 of
15 at quick scale) are two constant phases at the lrs a quarter and three
quarters of the way up Goyal's ramp (BS1024: 0.0475 then 0.1225, then 0.16),
a two-step staircase with the ramp's mean lr, where Goyal's lr changes every
iteration; it is also 13% of the epochs, where Goyal's is 5.6%. Every run of
a seed starts from the same weights and shuffle order (paired).

Rule (fixed before the judged runs, 2026-12-01; one seed of each rule's runs
at BS256 and BS1024 had been seen in L1's pilot), per rule and batch size:
the paired 90% t interval over seeds of acc(rule, B) - acc(BS64, lr 0.01),
test accuracy in points after the last epoch, lies above -MARGIN (supported:
the rule keeps BS64's accuracy), or wholly below it (contradicted). MARGIN is
the suite's margin for "the same accuracy" (claims/post.py
SAME_ACCURACY_MARGIN, 0.5 points: half the unit of the post's whole-percent
accuracies). Goyal et al. call a large-batch run's error matching when it is
within the run-to-run spread of the baseline (about 0.1-0.2 points on
ImageNet), a stricter bar than 0.5; the suite keeps one margin for "the same
accuracy" throughout. A run that diverges keeps the test accuracy of its
last evaluated epoch (the trainer stops it there), i.e. it counts as failing.
Primary readings (claims/literature.py): linear+warmup at BS256 and BS1024.

Where linear scaling stops: a table sets, per rule, the largest batch size
whose reading is supported beside L1's critical batch size (the mean of the
seeds' fits; claims/test_l1_critical_batch_size.py), which McCandlish et al.
expect to bound the batch sizes that scale perfectly.

Seeds: 3 (the quick default): the paired accuracy differences of the post's
runs have SDs 0.08-0.20 points (harness/verdicts.py), for which 3 seeds give
a half-width of 0.25 points at SD 0.15, half the margin. The lr 0.04 runs at
BS256 spread more (SD 0.3: verdicts.seeds_for_precision(0.3, 0.25) = 6
seeds), beyond the quick CI share; the paper scale's 5 seeds come closer.

Measured at quick scale (MNIST, 3 seeds, 2026-12-01), gap to BS64 in points:
constant -2.16 (BS256) / -6.04 (BS1024); sqrt -1.03 / -2.30; linear -0.05
[-0.55, 0.45] / +0.23 [-0.12, 0.59]; linear+warmup -0.13 [-0.64, 0.37] /
+0.12 [-0.07, 0.31]. Linear scaling keeps BS64's accuracy at BS1024, about
7x L1's critical batch size (~140): at the post's 30 epochs a large batch
has steps to spare, which the steps-to-target measure of B_crit does not
count. Warmup changes nothing measurable here (the post's MLP does not
diverge at lr 0.16 from its initial weights). Cost: 18 new quick runs (the
sqrt, linear and warmup rules at BS256 and BS1024, 3 seeds), about 169
core-seconds unloaded (L1's module docstring has the total); paper scale
adds BS4096 and the constant rule there: about 1.6 core-hours.
"""
import math

import numpy as np
import pytest

from claims import literature, post
from claims import test_l1_critical_batch_size as l1
from harness import plots, protocol, verdicts
from harness import claim
from harness.claim import uses
from harness.errors import NotAtThisScale
from harness.expect import Known
from harness.trainer import percent

FINDING = literature.L2
RULES = literature.RULES
BATCH_SIZES = literature.L2_BATCH_SIZES + literature.L2_PAPER_ONLY
MARGIN = post.SAME_ACCURACY_MARGIN  # points

def _known(rule, bs, verdict, why, dataset="mnist", scale="quick"):
    return Known(scale, f"test_scaling_rule_keeps_accuracy[{rule}-BS{bs}]", verdict, why=why, dataset=dataset)


# Measured at quick scale, MNIST, 3 seeds, on a 2-core Intel Xeon (2026-12-01).
KNOWN = (
    _known("constant", 256, "contradicted", "F1's runs: at lr 0.01 BS256 ends below BS64 by well over the margin"),
    _known("constant", 1024, "contradicted", "F1's runs: at lr 0.01 BS1024 ends far below BS64, further than BS256"),
    _known("sqrt", 256, "contradicted", "lr 0.02 closes part of the constant lr's gap, not enough: still below "
                                        "BS64 by more than the margin"),
    _known("sqrt", 1024, "contradicted", "lr 0.04 closes most of the gap but not all: still below BS64 by more "
                                         "than the margin"),
    _known("linear", 256, "inconclusive", "the gap is about zero, but the per-seed differences spread so "
                                          "widely that the few seeds give an interval whose half-width is about "
                                          "the margin"),
    _known("linear+warmup", 256, "inconclusive", "as linear: a gap near zero, but the per-seed differences "
                                                 "spread too widely for the few seeds to clear the margin"),
)

# --dataset fashion-mnist, quick scale, 3 seeds, same machine (2026-12-01): no rule keeps BS64's accuracy there.
KNOWN += (
    _known("constant", 256, "contradicted", "at lr 0.01 BS256 ends below BS64 by well over the margin",
           "fashion-mnist"),
    _known("constant", 1024, "contradicted", "at lr 0.01 BS1024 ends far below BS64, further than BS256",
           "fashion-mnist"),
    _known("sqrt", 256, "contradicted", "below BS64 by well over the margin", "fashion-mnist"),
    _known("sqrt", 1024, "contradicted", "further below BS64 than at BS256", "fashion-mnist"),
    _known("linear", 256, "contradicted", "linear scaling loses accuracy on Fashion-MNIST, its whole interval "
                                          "beyond the margin", "fashion-mnist"),
    _known("linear", 1024, "inconclusive", "below BS64 on average, but the seeds spread too far to decide",
           "fashion-mnist"),
    _known("linear+warmup", 256, "contradicted", "below BS64, its whole interval beyond the margin: the warmup "
                                                 "does not help", "fashion-mnist"),
    _known("linear+warmup", 1024, "inconclusive", "below BS64 on average, but the seeds spread too far to decide",
           "fashion-mnist"),
)


def rule_runs(scale, seeds, rule, bs):
    if bs in literature.L2_PAPER_ONLY and scale.name != "paper":
        raise NotAtThisScale(f"BS{bs} runs at paper scale only (at quick scale one step would see half of its "
                             f"{scale.train_subset} training images)")
    return [protocol.schedule(scale, s, literature.rule_phases(rule, bs)) for s in seeds]


def base_runs(scale, seeds):
    return [protocol.schedule(scale, s, literature.rule_phases("constant", literature.BASE_BS)) for s in seeds]


def arm_and_base(scale, seeds, rule, bs):
    """The reading's arm and base, and every arm for the figure (the same runs, shared)."""
    return {"arm": rule_runs(scale, seeds, rule, bs), "base": base_runs(scale, seeds),
            "arms": every_rule(scale, seeds)["arms"]}


def every_rule(scale, seeds):
    """{(rule, bs): runs} of every rule and batch size that runs at this scale, and the base."""
    out = {}
    for rule in RULES:
        for bs in BATCH_SIZES:
            try:
                out[f"{rule}|{bs}"] = rule_runs(scale, seeds, rule, bs)
            except NotAtThisScale:
                continue
    return {"arms": out, "base": base_runs(scale, seeds)}


def gap_verdict(arm_acc, base_acc, rule, bs):
    return verdicts.paired_noninferiority(arm_acc, base_acc, MARGIN,
                                          what=f"acc({rule}, BS{bs}) - acc(BS64 lr 0.01) [points]")


def _diverged(records):
    return [r["config"]["seed"] for r in records if r.get("diverged_at")]


# -- the figure -------------------------------------------------------------------------------
_DRAWN = {}


def figure(ctx, runs):
    key = str(ctx.report_dir)
    if key not in _DRAWN:
        _DRAWN[key] = draw(ctx, runs)
    return _DRAWN[key]


def draw(ctx, runs):
    """Accuracy gap to BS64 per rule against batch size, mean and paired 90% interval."""
    base = percent(runs["base"], "test_acc")
    fig, axes = plots.figure(1, 1, size=(5.5, 3.8))
    ax = axes[0]
    for i, (rule, color) in enumerate(zip(RULES, ("tab:gray", "tab:orange", "tab:blue", "tab:green"))):
        xs, ms, los, his = [literature.BASE_BS], [0.0], [0.0], [0.0]
        for bs in BATCH_SIZES:
            rs = runs["arms"].get(f"{rule}|{bs}")
            if rs is None:
                continue
            m, ci = verdicts.paired_diff(percent(rs, "test_acc"), base)
            xs.append(bs), ms.append(m), los.append(m - ci[0]), his.append(ci[1] - m)
        shift = 1 + 0.04 * (i - 1.5)  # side by side
        ax.errorbar(np.asarray(xs) * shift, ms, yerr=[los, his], fmt="o-", ms=3, capsize=2, color=color,
                    label=f"{rule} (lr at BS1024: {literature.scaled_lr(rule, 1024):g})")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.axhline(-MARGIN, color="r", ls=":", lw=0.8, label=f"-{MARGIN:g} points (the margin)")
    ax.set(xscale="log", xlabel="batch size", ylabel="test accuracy - BS64's (lr 0.01) [points]")
    ax.legend(fontsize=7)
    fig.suptitle(f"L2: accuracy gap to BS64 after 30 paper epochs per lr scaling rule\n(paired 90% CI, "
                 f"{ctx.scale.name} scale, {len(base)} seeds)", fontsize=9)
    return plots.save(fig, ctx.report_dir, "l2_scaling_rules")


# -- the readings -------------------------------------------------------------------------------
@uses(arm_and_base)
@pytest.mark.parametrize("bs", BATCH_SIZES, ids=lambda b: f"BS{b}")
@pytest.mark.parametrize("rule", RULES)
def test_scaling_rule_keeps_accuracy(ctx, reading, runs, rule, bs):
    arm, base = percent(runs["arm"], "test_acc"), percent(runs["base"], "test_acc")
    v = gap_verdict(arm, base, rule, bs)
    phases = literature.rule_phases(rule, bs)
    div = _diverged(runs["arm"])
    detail = ", then ".join(f"lr {lr:g} for {e} paper epochs" for e, _, lr in phases) + \
        (f"; diverged seeds {div} (accuracy of their last evaluated epoch)" if div else "")
    v = verdicts.Verdict(**{**v.as_dict(), "detail": f"{v.detail}; {detail}"})
    specs = rule_runs(ctx.scale, ctx.seeds, rule, bs) + base_runs(ctx.scale, ctx.seeds)
    reading(v, f"{rule} scaling at BS{bs} keeps BS64's test accuracy (within {MARGIN:g} points)",
            ours={f"BS{bs} {rule}": arm, "BS64": base}, unit="%", protocol=claim.protocol_of(specs),
            post="Goyal et al.: linear scaling with warmup keeps accuracy up to a large batch (32x on ImageNet)",
            figures=[figure(ctx, runs)])


def with_l1(scale, seeds):
    return every_rule(scale, seeds) | {"l1": l1.grid(scale, seeds)}


@uses(with_l1)
def test_where_linear_scaling_stops(ctx, record, runs):
    """A table (not a verdict): per rule the largest batch size that keeps BS64's accuracy, beside L1's B_crit."""
    base = percent(runs["base"], "test_acc")
    a = l1.analysis(ctx, runs["l1"])
    crit = [f[1] for f in a["fits"].values()]
    b_crit = f"{math.exp(np.mean(np.log(crit))):.3g} (geometric mean of {len(crit)} seeds' fits)" if crit else \
        "not determined (" + "; ".join(a["problems"]) + ")"
    lines = [f"| rule | {' | '.join(f'BS{bs}' for bs in BATCH_SIZES)} | largest batch kept |",
             "|---" * (len(BATCH_SIZES) + 2) + "|"]
    for rule in RULES:
        cells, kept = [], []
        for bs in BATCH_SIZES:
            rs = runs["arms"].get(f"{rule}|{bs}")
            if rs is None:
                cells.append("paper only")
                continue
            v = gap_verdict(percent(rs, "test_acc"), base, rule, bs)
            cells.append(f"{v.effect:+.2f} [{v.ci[0]:+.2f}, {v.ci[1]:+.2f}] {v.verdict}")
            kept += [bs] if v.supported else []
        largest = max(kept, default=None)
        lines.append(f"| {rule} | {' | '.join(cells)} | {f'BS{largest}' if largest else 'none'} |")
    record("table", finding=FINDING.id, title=f"accuracy gap to BS64 (lr 0.01) per rule, paired 90% CI, "
                                              f"points ({ctx.scale.name} scale)", text="\n".join(lines),
           note=f"L1's critical batch size (steps to train loss {a['target']:g}): {b_crit}. McCandlish et al. expect "
                "linear scaling to hold while B stays below B_crit; Goyal et al. report it holding up to 32x their "
                "base batch on ImageNet.")

# Paper scale, MNIST, 3 seeds (the campaign's published records, 2026-12-02), same machine: the
# primaries (linear+warmup at BS256 and BS1024) are supported; the other rules lose accuracy as
# the papers expect, and at BS4096 linear scaling's lr 0.64 trains some seeds and not others.
KNOWN += (
    _known("constant", 256, "contradicted", "F1's rule: at lr 0.01 the larger batch ends below BS64", scale="paper"),
    _known("constant", 1024, "contradicted", "as at BS256, by more", scale="paper"),
    _known("constant", 4096, "contradicted", "as at BS256, by more still", scale="paper"),
    _known("sqrt", 1024, "contradicted", "square-root scaling closes most of the gap, not all of it", scale="paper"),
    _known("sqrt", 4096, "contradicted", "as at BS1024, by more", scale="paper"),
    _known("linear", 4096, "inconclusive", "lr 0.64 at BS4096 sits at the edge of divergence: the seeds end far "
                                           "apart, so the interval spans the margin many times over", scale="paper"),
    _known("linear+warmup", 4096, "inconclusive", "as linear at BS4096: the warmup does not keep every seed "
                                                  "trainable at lr 0.64", scale="paper"),
)
