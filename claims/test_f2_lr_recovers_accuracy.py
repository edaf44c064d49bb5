"""F2: raising the learning rate wins back the accuracy a large batch loses.

The post (section "Effect of Learning Rate") keeps BS1024 but multiplies the
learning rate by ten (0.1) and reports that test accuracy climbs back to the
98% of BS64 at lr 0.01, from about 96% for BS1024 at lr 0.01.

Protocol: 30 epochs (scaled), SGD, Glorot init; three arms, all seeds: BS64
lr 0.01 (reference), BS1024 lr 0.01, BS1024 lr 0.1, all F8's grid runs, read
from the cache. Mean/std ("standard", the post's protocol) and x/255 input
scaling are separate readings (the post does not say which it used).

Rules (test accuracy after the last epoch, in points, Welch 90% intervals):
- recovers: BS1024 lr 0.1 is not worse than BS64 lr 0.01 by more than
  DELTA = 0.5 points (non-inferiority: interval of the difference > -0.5);
- improves: BS1024 lr 0.1 beats BS1024 lr 0.01 (interval above 0).
Primary readings (claims/post.py): both, standard inputs.
"""
import pytest

from claims import figures, post
from harness import protocol, verdicts
from harness.claim import uses
from harness.errors import NotAtThisScale
from harness.trainer import percent

FINDING = post.F2
DELTA = 0.5  # points of test accuracy; fixed before any run
ARMS = {"BS64 lr0.01": (64, 0.01), "BS1024 lr0.01": (1024, 0.01), "BS1024 lr0.1": (1024, 0.1)}
SCALINGS = protocol.INPUT_SCALINGS

# Declared paper-only at quick scale (2026-12-01, harness/scales.py's design study): no
# affordable quick design resolves the 0.5-point margin with 3 seeds (8000 images x 15
# epochs: -0.47 [-0.69, -0.26] points); the paper's one-seed point is -0.15.
PAPER_ONLY = ("paper-scale reading: 3 quick seeds cannot resolve the 0.5-point non-inferiority margin "
              "(the design study); run without --quick")


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
        v = verdicts.noninferiority(acc["BS1024 lr0.1"], acc["BS64 lr0.01"], DELTA,
                                    what="acc(BS1024 lr0.1) - acc(BS64 lr0.01) [points]")
        text, post_text = f"BS1024 lr0.1 within {DELTA} points of BS64 lr0.01 (non-inferiority)", \
            f"{n['BS1024 lr0.1 test']:g}% vs {n['BS64 lr0.01 test']:g}%"
    else:
        v = verdicts.superiority(acc["BS1024 lr0.1"], acc["BS1024 lr0.01"],
                                 what="acc(BS1024 lr0.1) - acc(BS1024 lr0.01) [points]")
        text, post_text = "BS1024 lr0.1 above BS1024 lr0.01", \
            f"{n['BS1024 lr0.1 test']:g}% vs ~{n['BS1024 lr0.01 test']:g}%"
    reading(v, text, post=post_text, ours=acc, unit="%",
            figures=[figures.accuracy_curves(ctx, runs, "F2: a 10x learning rate for BS1024", "f2_lr_recovery",
                                             scaling)])
