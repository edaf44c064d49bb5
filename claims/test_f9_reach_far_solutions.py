"""F9: a large batch reaches the far, better solutions if it is given a larger
learning rate or more epochs.

The post (section "Getting Far Enough") raises the learning rate of BS1024 to
0.1, and separately trains BS1024 at lr 0.01 for 16 times the epochs
((1024/64) x 30 = 480), which is as many steps as BS64 takes in 30 epochs. It
reports for the 480-epoch run W 6.63, B 0.11, A 98%, against BS64's W 6.71,
B 0.11, A 98%, and concludes both changes let the large batch travel as far as
the small one and generalise as well.

Protocol: reference protocol.sgd(scale, 64, 0.01, seed, scaling=s) (F1's
runs); arm "lr 0.1": protocol.sgd(scale, 1024, 0.1, seed, scaling=s) (an F8
grid cell); arm "16x epochs": protocol.sgd(scale, 1024, 0.01, seed,
epochs=480), 96 epochs at quick scale, which keeps the equal-steps ratio.
Both input scalings (x/255 default, "standard") are read separately; at quick
scale the 16x-epoch arm runs only with x/255, to keep CI time (its standard
readings skip there and run at paper scale).

Rules (fixed before the runs), per arm and scaling, Welch 90% intervals over seeds:
- distance: non-inferiority of W(arm) to W(BS64) with margin 10% of BS64's
  mean W: the interval of W(arm) - W(BS64) must lie above -0.1 * mean W(BS64).
- accuracy: non-inferiority of A(arm) to A(BS64) with margin 1 point: the
  interval of A(arm) - A(BS64) must lie above -1.
Contradicted when the interval lies wholly below the margin.
"""
import numpy as np
import pytest

from harness import protocol, verdicts
from harness.protocol import scaling_label
from harness.trainer import final

SCALINGS = protocol.INPUT_SCALINGS
W_MARGIN = 0.10   # fraction of BS64's mean W
A_MARGIN = 1.0    # points
LONG_EPOCHS = protocol.equal_steps_epochs(30, 64, 1024)  # 480
ARMS = {"lr 0.1": dict(bs=1024, lr=0.1, epochs=30), "16x epochs": dict(bs=1024, lr=0.01, epochs=LONG_EPOCHS)}
POST = {"16x epochs": {"W": 6.63, "B": 0.11, "A": 98.0}, "lr 0.1": {"A": 98.0}}

# Measured at quick scale (8000 images, 6 / 96 epochs), 3 seeds, Welch 90% intervals.
KNOWN = {
    ("quick", "lr0.1-distance-x255"):
        "contradicted: BS1024 lr 0.1 ends at W 2.541 against BS64's 2.969 (-14%); W(arm) - W(BS64) = -0.427 "
        "[-0.449, -0.406], wholly below the -0.297 margin (48 steps at lr 0.1 vs 750 at lr 0.01)",
    ("quick", "lr0.1-distance-standard"):
        "inconclusive: W 2.023 against BS64's 2.192 (-8%); -0.169 [-0.225, -0.113] straddles the -0.219 margin",
    ("quick", "lr0.1-accuracy-x255"):
        "inconclusive: A 87.32% against BS64's 89.43%; -2.12 [-3.32, -0.91] points straddles the -1 margin",
    ("quick", "lr0.1-accuracy-standard"):
        "inconclusive: A 90.98% against BS64's 92.83%; -1.86 [-2.94, -0.78] points straddles the -1 margin",
}


def arm_runs(scale, seeds, arm, scaling=protocol.DEFAULT_SCALING):
    a = ARMS[arm]
    return [protocol.sgd(scale, a["bs"], a["lr"], s, epochs=a["epochs"], scaling=scaling) for s in seeds]


def ref_runs(scale, seeds, scaling=protocol.DEFAULT_SCALING):
    return [protocol.sgd(scale, 64, 0.01, s, scaling=scaling) for s in seeds]


def runs_arm(scale, arm, scaling):
    """Whether an arm runs at this scale and scaling (quick: 16x arm with x/255 only)."""
    return protocol.runs_at(scale, ARMS[arm]["epochs"], scaling)


def required(scale, seeds):
    out = []
    for sc in SCALINGS:
        out += ref_runs(scale, seeds, sc)
        for arm in ARMS:
            if runs_arm(scale, arm, sc):
                out += arm_runs(scale, seeds, arm, sc)
    return out


@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("quantity", ["distance", "accuracy"])
@pytest.mark.parametrize("arm", list(ARMS))
def test_large_batch_reaches_bs64(ctx, record, judge, arm, quantity, scaling):
    if not runs_arm(ctx.scale, arm, scaling):
        pytest.skip("16x-epoch arm with standard inputs runs at paper scale only (quick CI budget)")
    arm_recs = ctx.records(arm_runs(ctx.scale, ctx.seeds, arm, scaling))
    ref = ctx.records(ref_runs(ctx.scale, ctx.seeds, scaling))
    if quantity == "distance":
        a, b = [final(r, "w_dist") for r in arm_recs], [final(r, "w_dist") for r in ref]
        delta = W_MARGIN * float(np.mean(b))
        v = verdicts.noninferiority(a, b, delta, what="W(arm) - W(BS64)")
        v.detail = f"margin = {W_MARGIN:.0%} of BS64's mean W {np.mean(b):.3f}"
        post = "16x epochs: W 6.63 vs BS64 6.71" if arm == "16x epochs" else "reaches the far solutions (~6)"
        ours = f"W {np.mean(a):.3f} vs BS64 {np.mean(b):.3f}"
    else:
        a, b = [100 * final(r, "test_acc") for r in arm_recs], [100 * final(r, "test_acc") for r in ref]
        v = verdicts.noninferiority(a, b, A_MARGIN, what="A(arm) - A(BS64) [points]")
        post = "A 98% vs BS64 98%"
        ours = f"A {np.mean(a):.2f}% vs BS64 {np.mean(b):.2f}%"
    cfg = arm_recs[0]["config"]
    steps = (arm_recs[0]["steps"], ref[0]["steps"])
    v.detail = (v.detail + "; " if v.detail else "") + f"steps per run: arm {steps[0]}, BS64 {steps[1]}"
    label = scaling_label(scaling)
    record(finding="F9", reading=f"BS1024 {arm} reaches BS64's {quantity}{label}", verdict=v, post=post, ours=ours,
           protocol={"arm": f"BS1024 lr {ARMS[arm]['lr']:g}, {cfg['phases'][0]['epochs']} epochs",
                     "reference": "BS64 lr 0.01 (F1's runs)", "scaling": scaling})
    judge(f"{arm.replace(' ', '')}-{quantity}-{scaling}", v)
