"""L3 (beyond the post): large batches end at sharper minima, and sharpness
follows lr/B.

Keskar et al. (2017, arXiv:1609.04836) find that large-batch training ends at
sharper minima of the training loss than small-batch training at the same
learning rate, and tie the large batch's poorer test accuracy to it.
Jastrzebski et al. (2020, arXiv:2002.09572) find that the ratio lr/B steers
the curvature SGD reaches: a larger lr/B, a lower top Hessian eigenvalue
lambda_max. Together: BS1024 at the small batch's lr is sharper, and scaling
lr with B (the same lr/B) closes the gap. Context, not a rule here: in
full-batch gradient descent lambda_max rises to about 2/lr and hovers there,
the edge of stability (Cohen et al. 2021, arXiv:2103.00065), so a large lr
caps the sharpness whatever the batch. (claims/literature.py.)

Protocol (fixed before any L3 run): the post's MLP and SGD, 30 paper epochs
(15 at quick scale), mean/std inputs, three arms, every seed: BS64 at lr 0.01,
BS1024 at lr 0.01 (the post's pair) and BS1024 at lr 0.16 = 0.01 x 1024/64
(the linearly scaled lr: BS64's lr/B). Each run keeps its final weights
(RunConfig.snapshots; BS1024 at lr 0.01 already does, as the gradient
experiment's start run, and is read from the cache; the other two are new
runs). At the final weights, lambda_max of the training loss (the engine's
mean cross-entropy) on POINTS fixed images of the run's own training set
(1000 at quick scale, 10000 at paper scale; the same images for every run):
20 Lanczos products and a residual check (harness/sharpness.py, checked
against full Hessians in tests/test_sharpness.py). An estimate whose residual
|H y - lambda y| / lambda is above TOL = 1e-2 makes its reading inconclusive.

Rules, on log2 lambda_max, 90% t intervals of the per-seed differences
(paired: the arms of one seed share their initial weights and every epoch's
shuffle order, harness/verdicts.py):
- primary, sharper: log2(lambda(BS1024 lr 0.01) / lambda(BS64 lr 0.01)) > 1,
  i.e. the large batch at least SHARPER_FACTOR = 2 times as sharp; contradicted
  if the interval lies below 1. Why 2: the papers describe a large,
  qualitative difference (Keskar et al.'s sharp against flat minima), and the
  two arms differ 16-fold in lr/B; a factor 2 is the weak form of "follows
  lr/B" (lambda ~ (lr/B)^-0.25 over that span), so a smaller gap is not the
  effect they describe.
- primary, follows lr/B [BS1024 lr 0.16]: |log2(lambda(BS1024 lr 0.16) /
  lambda(BS64 lr 0.01))| < 1 (TOST): at equal lr/B the two are within the
  same factor 2 of each other; contradicted if the interval lies wholly
  outside (-1, 1). One factor for both readings: "sharper" and "the same"
  are judged on one scale.
Reported beside each reading, not judged: lambda_max against 2/lr
(lambda lr / 2 = 1 is the edge of stability), the final weight norm |W| (a
sharpness can be changed by rescaling weights, Dinh et al. 2017,
arXiv:1703.04933) and the loss on the same images.
Primary readings (claims/literature.py): the first two, standard inputs;
Holm across them (harness/findings.py).
Nulls that fail them (tests/test_nulls_l3_l4.py, synthetic): a harness
that ignored the batch size gives the two lr 0.01 arms one lambda (log2 ratio
0: "sharper" contradicted); one that ignored the learning rate makes the lr
0.16 arm the lr 0.01 arm, as sharp as the large batch: where "sharper" holds
(a gap of 2x or more) "follows lr/B" then fails. The two readings cover each
other: at quick scale, where BS1024 is only 1.44x as sharp as BS64, an
lr-ignoring harness would pass "follows lr/B" (measured ratio inside the
2x band) and only "sharper"'s contradiction would stand.

Cost (estimated by RunConfig.estimate_seconds and SharpnessSpec's from the
README's quiet single-thread step rates on the 2-core Intel Xeon): quick
scale, 3 seeds: 6 new training runs (BS64 lr 0.01 and BS1024 lr 0.16 with
final snapshots) 61 core-seconds, and 9 Hessian estimates 21 core-seconds;
measured on that machine under a load average of about 9 (a paper campaign
and other sessions), the 6 runs took 465 s and the estimates 143 s. Paper
scale, 5 seeds: 10 new runs, 1293 core-seconds; the 5 BS1024 lr 0.01 runs
again (578 s) where only their published records exist (they hold no
weights); 15 estimates on 10000 images, 344 s: about 37 min on one core.
"""
import dataclasses
import math

import numpy as np
import pytest

from claims import figures, literature
from harness import plots, protocol, sharpness, verdicts
from harness.claim import uses
from harness.expect import Known
from harness.trainer import final

FINDING = literature.L3
SCALINGS = protocol.INPUT_SCALINGS
ARMS = {"BS64 lr 0.01": (64, 0.01), "BS1024 lr 0.01": (1024, 0.01), "BS1024 lr 0.16": (1024, 0.01 * 1024 / 64)}
SHARPER_FACTOR = 2.0  # "sharper": at least twice lambda_max (see the docstring); also the "same" band
LOG2_MARGIN = math.log2(SHARPER_FACTOR)  # the rules work on log2 lambda: 1
POINTS = {"quick": 1000, "paper": 10000}  # fixed training images the Hessian is measured on, per scale
TOL = 1e-2  # largest relative residual of a Lanczos estimate a reading accepts
# follows lr/B: reading -> (arm at the large batch, arm at the small batch), equal lr/B
EQUAL_NOISE = {"BS1024 lr 0.16": ("BS1024 lr 0.16", "BS64 lr 0.01")}

def _known(reading, verdict, why, dataset="mnist"):
    return Known("quick", reading, verdict, why=why, dataset=dataset)


# Measured at quick scale, MNIST, 3 seeds, on a 2-core Intel Xeon (2026-12-01).
KNOWN = (
    _known("test_large_batch_is_sharper[standard]", "contradicted",
           "BS1024 ends sharper than BS64 at lr 0.01, but well short of the factor of two the rule asks; its "
           "short quick-scale run leaves it far from a minimum (its loss on the points well above BS64's)"),
    _known("test_sharpness_follows_lr_over_batch[BS1024 lr 0.16-standard]", "inconclusive",
           "at BS64's lr/B the large lr ends at the edge of stability (lambda just under 2/lr), less than half "
           "BS64's lambda: lr caps the sharpness, not lr/B; the interval's upper end stops just short of "
           "contradicting, with one thread and with two"),
)

# --dataset fashion-mnist, quick scale, 3 seeds, same machine (2026-12-01).
KNOWN += (
    _known("test_large_batch_is_sharper[standard]", "contradicted",
           "on Fashion-MNIST BS1024 ends hardly sharper than BS64 at lr 0.01",
           "fashion-mnist"),
    _known("test_sharpness_follows_lr_over_batch[BS1024 lr 0.16-standard]", "contradicted",
           "at BS64's lr/B, BS1024 at lr 0.16 ends several times less sharp than BS64: lr, not lr/B, "
           "sets it", "fashion-mnist"),
)


def arm_runs(scale, seeds, arm, scaling):
    bs, lr = ARMS[arm]
    return [sharpness.with_final_weights(r) for r in protocol.runs(scale, seeds, "sgd", bs, lr, scaling=scaling)]


def measured(scale, runs):
    """{"runs": the runs, "sharpness": lambda_max at each run's final weights}."""
    return {"runs": runs, "sharpness": [sharpness.SharpnessSpec(r, r.epochs, POINTS[scale.name]) for r in runs]}


def l3_arms(scale, seeds, scaling):
    return {arm: measured(scale, arm_runs(scale, seeds, arm, scaling)) for arm in ARMS}


def log2_lambda(arm):
    return [math.log2(r["lambda"]) for r in arm["sharpness"]]


def sharper(large, small, detail=""):
    """Per-seed log2 lambda of BS1024 and of BS64, both at lr 0.01 -> the verdict."""
    return verdicts.paired_superiority(large, small, LOG2_MARGIN, detail=detail,
                                       what="log2(lambda(BS1024 lr 0.01) / lambda(BS64 lr 0.01))")


def as_sharp(a, b, names, detail=""):
    """Per-seed log2 lambda of two arms at equal lr/B -> the verdict."""
    return verdicts.paired_equivalence(a, b, LOG2_MARGIN, detail=detail,
                                       what=f"log2(lambda({names[0]}) / lambda({names[1]}))")


def unless_unconverged(v, arms):
    """The verdict, or the same numbers judged inconclusive when an estimate it
    rests on failed the residual check (its lambda is not certified)."""
    bad = [(name, r["residual"]) for name, arm in arms.items() for r in arm["sharpness"] if not r["residual"] < TOL]
    if not bad:
        return v
    why = f"Lanczos residual above {TOL:g} for {', '.join(f'{n} ({x:.2g})' for n, x in bad)}"
    return dataclasses.replace(v, verdict=verdicts.INCONCLUSIVE, p_contra=None, detail=f"{v.detail}; {why}")


def lr_of(arm):
    return arm["runs"][0]["config"]["phases"][-1]["lr"]


def context(arms):
    """What the reading reports beside its rule: lambda_max against 2/lr, |W|, the loss."""
    out = {}
    for name, arm in arms.items():
        lam = [r["lambda"] for r in arm["sharpness"]]
        out[f"lambda {name}"] = lam
        out[f"lambda lr/2 {name}"] = [x * lr_of(arm) / 2 for x in lam]
    return out


def detail(arms):
    parts = []
    for name, arm in arms.items():
        lam = [r["lambda"] for r in arm["sharpness"]]
        parts.append(f"{name}: lambda {', '.join(f'{x:.4g}' for x in lam)} (2/lr {2 / lr_of(arm):.4g}), "
                     f"|W| {np.mean([final(r, 'w_norm') for r in arm['runs']]):.4g}, loss on the points "
                     f"{np.mean([r['loss'] for r in arm['sharpness']]):.3g}")
    res = max(r["residual"] for arm in arms.values() for r in arm["sharpness"])
    points = next(iter(arms.values()))["sharpness"][0]["points"]
    return "; ".join(parts) + f"; {points} points, largest Lanczos residual {res:.2g}"


def draw(ctx, arms, name, scaling):
    """lambda_max per run (dots) and mean (bar) per arm, 2/lr marked, log scale."""
    def fig():
        f, axes = plots.figure(1, 1, size=(1.6 + 1.3 * len(arms), 3.8))
        ax = axes[0]
        for i, (label, arm) in enumerate(arms.items()):
            lam = [r["lambda"] for r in arm["sharpness"]]
            ax.bar(i, np.exp(np.mean(np.log(lam))), color="tab:blue", alpha=0.35, width=0.6)
            ax.plot([i] * len(lam), lam, "k.", ms=6)
            ax.hlines(2 / lr_of(arm), i - 0.35, i + 0.35, colors="tab:red", linestyles="--",
                      label="2/lr (edge of stability)" if i == 0 else None)
        ax.set_xticks(range(len(arms)), [a.replace(" lr", "\nlr") for a in arms], fontsize=7)
        ax.set(yscale="log", ylabel="lambda_max of the training loss")
        ax.legend(fontsize=7)
        f.suptitle(f"L3: sharpness at the final weights ({scaling} inputs, {ctx.scale.name} scale;\n"
                   f"bar = geometric mean over seeds, dots = seeds)", fontsize=8)
        return f
    return figures.drawn_once(ctx, f"{name}_{scaling}", fig)


@uses(l3_arms)
@pytest.mark.parametrize("scaling", SCALINGS)
def test_large_batch_is_sharper(ctx, reading, runs, scaling):
    pair = {a: runs[a] for a in ("BS1024 lr 0.01", "BS64 lr 0.01")}
    v = unless_unconverged(sharper(log2_lambda(pair["BS1024 lr 0.01"]), log2_lambda(pair["BS64 lr 0.01"]),
                                   detail(runs)), pair)
    reading(v, f"BS1024 ends at least {SHARPER_FACTOR:g}x as sharp as BS64 at lr 0.01 (lambda_max)",
            post="Keskar et al. 2017: large batches converge to sharper minima", ours=context(runs),
            figures=[draw(ctx, runs, "l3_sharpness", scaling)])


@uses(l3_arms)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("pair", list(EQUAL_NOISE))
def test_sharpness_follows_lr_over_batch(ctx, reading, runs, pair, scaling):
    names = EQUAL_NOISE[pair]
    two = {n: runs[n] for n in names}
    v = unless_unconverged(as_sharp(log2_lambda(two[names[0]]), log2_lambda(two[names[1]]), names, detail(runs)),
                           two)
    reading(v, f"at equal lr/B, {names[0]} and {names[1]} end within {SHARPER_FACTOR:g}x of each other's lambda_max",
            post="Jastrzebski et al. 2020: lr/B sets the sharpness SGD reaches", ours=context(runs),
            figures=[draw(ctx, runs, "l3_sharpness", scaling)])
