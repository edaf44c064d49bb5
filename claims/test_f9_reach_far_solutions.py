"""F9: a large batch reaches the far, better solutions if it is given a larger
learning rate or more epochs.

The post (section "Getting Far Enough") raises the learning rate of BS1024 to
0.1, and separately trains BS1024 at lr 0.01 for 16 times the epochs
((1024/64) x 30 = 480), which is as many steps as BS64 takes in 30 epochs. It
reports for the 480-epoch run W 6.63, B 0.11, A 98%, against BS64's W 6.71,
B 0.11, A 98%, and concludes both changes let the large batch travel as far as
the small one and generalise as well.

The numbers: post.F9.numbers (BS64's: post.F8.numbers).

Protocol: reference protocol.runs(scale, seeds, "sgd", 64, 0.01, scaling=s)
(F1's runs); arm "lr 0.1": BS1024 at lr 0.1 (an F8 grid cell); arm "16x
epochs": BS1024 at lr 0.01 for 480 paper epochs, 240 at quick scale, which
keeps the equal-steps ratio. Mean/std inputs ("standard", the post's protocol
and the primary readings) by default; x/255 readings with --scaling x255|both.
At quick scale the 16x-epoch arm runs only with the default scaling, to keep
CI time (protocol.check), and the lr 0.1 distance reading is paper-only
(PAPER_ONLY below).

Rules (fixed before the runs), per arm and scaling, Welch 90% intervals over seeds:
- distance: non-inferiority of W(arm) to W(BS64) with margin 10% of BS64's
  mean W: the interval of W(arm) - W(BS64) must lie above -0.1 * mean W(BS64).
- accuracy: non-inferiority of A(arm) to A(BS64) with margin 1 point: the
  interval of A(arm) - A(BS64) must lie above -1.
Contradicted when the interval lies wholly below the margin.
Primary readings (claims/post.py): both quantities for both arms, standard
inputs.
"""
import numpy as np
import pytest

from claims import post
from harness import protocol, verdicts
from harness.claim import uses
from harness.errors import NotAtThisScale
from harness.expect import Known
from harness.trainer import final, percent

FINDING = post.F9
SCALINGS = protocol.INPUT_SCALINGS
W_MARGIN = 0.10   # fraction of BS64's mean W
A_MARGIN = 1.0    # points
LONG_EPOCHS = protocol.equal_steps_epochs(30, 64, 1024)  # 480
ARMS = {"lr 0.1": dict(bs=1024, lr=0.1, epochs=30), "16x epochs": dict(bs=1024, lr=0.01, epochs=LONG_EPOCHS)}

KNOWN = (
    Known("quick", "test_large_batch_reaches_bs64[lr 0.1-accuracy-x255]", "inconclusive", scaling="x255",
          why="three seeds cannot resolve the 1-point margin with x/255 inputs"),
)

# --dataset fashion-mnist, quick scale, 3 seeds, measured on a 2-core Intel Xeon (2026-12-01).
KNOWN += (
    Known("quick", "test_large_batch_reaches_bs64[lr 0.1-accuracy-standard]", "inconclusive", dataset="fashion-mnist",
          why="BS1024 at lr 0.1 ends about 2 points below BS64 on Fashion-MNIST; three seeds cannot place that "
              "against the 1-point margin"),
)


# Declared paper-only at quick scale (2026-12-01, harness/scales.py's design study): the
# paper's one-seed point is 12% short of BS64's W against a 10% margin, and no affordable
# quick design decided the reading (8000 images x 15 epochs: -11% [-12.5, -9.5]).
PAPER_ONLY = ("paper-scale reading: at quick scale the lr 0.1 arm's distance sits on the 10% margin "
              "(the design study: no affordable quick design decides it); run without --quick")


def arm_and_bs64(scale, seeds, arm, quantity, scaling):
    if scale.name == "quick" and (arm, quantity) == ("lr 0.1", "distance"):
        raise NotAtThisScale(PAPER_ONLY)
    a = ARMS[arm]
    return {"arm": protocol.runs(scale, seeds, "sgd", a["bs"], a["lr"], a["epochs"], scaling=scaling),
            "BS64": protocol.runs(scale, seeds, "sgd", 64, 0.01, scaling=scaling)}


@uses(arm_and_bs64)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("quantity", ["distance", "accuracy"])
@pytest.mark.parametrize("arm", list(ARMS))
def test_large_batch_reaches_bs64(reading, runs, arm, quantity, scaling):
    n, ref = FINDING.numbers, post.F8.numbers
    steps = f"steps per run: arm {runs['arm'][0]['steps']}, BS64 {runs['BS64'][0]['steps']}"
    if quantity == "distance":
        a, b = ([final(r, "w_dist") for r in runs[k]] for k in ("arm", "BS64"))
        v = verdicts.noninferiority(a, b, W_MARGIN * float(np.mean(b)), what="W(arm) - W(BS64)",
                                    detail=f"margin = {W_MARGIN:.0%} of BS64's mean W {np.mean(b):.3f}; {steps}")
        post_text = f"16x epochs: W {n['16x epochs W']:g} vs BS64 {ref['W']:g}" if arm == "16x epochs" else \
            f"reaches the far solutions (~{ref['best distance']:g})"
    else:
        a, b = percent(runs["arm"], "test_acc"), percent(runs["BS64"], "test_acc")
        v = verdicts.noninferiority(a, b, A_MARGIN, what="A(arm) - A(BS64) [points]", detail=steps)
        post_text = f"A {n[arm + ' A']:g}% vs BS64 {ref['A']:g}%"
    key, unit = ("W", "") if quantity == "distance" else ("A", "%")
    reading(v, f"BS1024 {arm} reaches BS64's {quantity}", post=post_text, unit=unit,
            ours={f"{key} {arm}": a, f"{key} BS64": b})
