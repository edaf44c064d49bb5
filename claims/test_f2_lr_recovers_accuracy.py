"""F2: raising the learning rate wins back the accuracy a large batch loses.

The post (section "Effect of Learning Rate") keeps BS1024 but multiplies the
learning rate by ten (0.1) and reports that test accuracy climbs back to the
98% of BS64 at lr 0.01, from about 96% for BS1024 at lr 0.01.

Protocol: 30 epochs (scaled), SGD, Glorot init; three arms, all seeds: BS64
lr 0.01 (reference), BS1024 lr 0.01, BS1024 lr 0.1, all F8's grid runs, read
from the cache. Mean/std ("standard", the post's protocol) and x/255 input
scaling are separate readings (the post does not say which it used).

Rules (test accuracy after the last epoch, in points; 90% t intervals of the
per-seed differences, paired because the three arms of one seed share their
initial weights and every epoch's shuffle order, harness/verdicts.py):
- recovers: BS1024 lr 0.1 is not worse than BS64 lr 0.01 by more than
  DELTA = post.SAME_ACCURACY_MARGIN = 0.5 points (non-inferiority: interval of
  the difference above -0.5). The post prints both as "98%", a whole percent;
  0.5 is half that unit (claims/post.py says why the stricter reading of the
  rounding). This module owns the comparison: F9's lr 0.1 arm is the same
  runs, and F9's section shows this reading (post.F9.related) instead of
  judging it again with another margin.
- improves: BS1024 lr 0.1 beats BS1024 lr 0.01 (interval above 0).
Primary readings (claims/post.py): both, standard inputs.
Nulls that fail them: a harness that ignored the learning rate (the lr 0.1 arm
is the lr 0.01 arm) gives "improves" differences of 0 (never supported) and
leaves "recovers" at BS1024 lr 0.01's shortfall (~2 points in the post, 6 at
quick scale: contradicted); tests/test_claim_nulls.py.
"""
import pytest

from claims import figures, post
from harness import protocol, verdicts
from harness.claim import uses
from harness.errors import NotAtThisScale
from harness.trainer import percent

FINDING = post.F2
DELTA = post.SAME_ACCURACY_MARGIN  # 0.5 points: half the unit of the post's whole-percent accuracies
ARMS = {"BS64 lr0.01": (64, 0.01), "BS1024 lr0.01": (1024, 0.01), "BS1024 lr0.1": (1024, 0.1)}
SCALINGS = protocol.INPUT_SCALINGS

# Declared paper-only at quick scale (2026-12-01, harness/scales.py's design study): at quick
# scale the effect itself sits on the 0.5-point margin (8000 images x 15 epochs, Welch:
# -0.47 [-0.69, -0.26] points), so no affordable number of quick seeds decides it; the
# paper's one-seed point is -0.15.
PAPER_ONLY = ("paper-scale reading: at quick scale the effect sits on the 0.5-point non-inferiority margin "
              "(the design study); run without --quick")


def recovers(arm, ref):
    """Per-seed accuracies of BS1024 lr 0.1 and of BS64 lr 0.01 -> "recovers" (F9's
    lr 0.1 arm refers to this comparison)."""
    return verdicts.paired_noninferiority(arm, ref, DELTA, what="acc(BS1024 lr0.1) - acc(BS64 lr0.01) [points]")


def improves(arm, base):
    """Per-seed accuracies of BS1024 lr 0.1 and of BS1024 lr 0.01 -> "improves"."""
    return verdicts.paired_superiority(arm, base, what="acc(BS1024 lr0.1) - acc(BS1024 lr0.01) [points]")


def arms(scale, seeds, scaling, claim):
    if scale.name == "quick" and claim == "recovers":
        raise NotAtThisScale(PAPER_ONLY)
    return {arm: protocol.runs(scale, seeds, "sgd", bs, lr, scaling=scaling) for arm, (bs, lr) in ARMS.items()}


@uses(arms)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("claim", ["recovers", "improves"])
def test_larger_lr_recovers_accuracy(ctx, runs, reading, claim, scaling):
    acc = {arm: percent(rs, "test_acc") for arm, rs in runs.items()}
    n = FINDING.numbers
    if claim == "recovers":
        v = recovers(acc["BS1024 lr0.1"], acc["BS64 lr0.01"])
        text, post_text = f"BS1024 lr0.1 within {DELTA} points of BS64 lr0.01 (non-inferiority)", \
            f"{n['BS1024 lr0.1 test']:g}% vs {n['BS64 lr0.01 test']:g}%"
    else:
        v = improves(acc["BS1024 lr0.1"], acc["BS1024 lr0.01"])
        text, post_text = "BS1024 lr0.1 above BS1024 lr0.01", \
            f"{n['BS1024 lr0.1 test']:g}% vs ~{n['BS1024 lr0.01 test']:g}%"
    reading(v, text, post=post_text, ours=acc, unit="%",
            figures=[figures.accuracy_curves(ctx, runs, "F2: a 10x learning rate for BS1024", "f2_lr_recovery",
                                             scaling)])
