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

Rules (fixed before the runs), per arm and scaling, 90% t intervals over seeds:
- lr 0.1, distance: the post says the best solutions sit about 6 from the
  init ("~6"), that BS1024 at lr 0.01 cannot get that far and that lr 0.1
  can; it never sets the lr 0.1 arm's W beside BS64's. So its mean W must
  reach the post's ~6: the t interval of W(BS1024 lr 0.1) must lie above
  FAR_W - FAR_W_TOLERANCE = 6 - 0.5 = 5.5 (one-sided: farther is still
  "reaching"). "~6" has one significant figure, so its unit is 1 and anything
  from 5.5 reads as about 6. (Replaces, 2026-12-01, issue 13, before any
  multi-seed paper result, a rule the post does not state: within 10% of
  BS64's W.) An absolute distance at the post's 60k images x 30 epochs: at
  quick scale every distance is shorter (BS64 ~2.9), so the reading is
  paper-only there.
- 16x epochs, distance: non-inferiority of W(arm) to W(BS64), margin W_MARGIN
  = 10% of BS64's mean W (the post: 6.63 against 6.71; F10 judges the same
  pair's equality with the same 10%): the interval of the per-seed W(arm) -
  W(BS64) must lie above -0.1 * mean W(BS64).
- 16x epochs, accuracy: non-inferiority of A(arm) to A(BS64) with margin
  post.SAME_ACCURACY_MARGIN = 0.5 points (the post prints both as 98%; 0.5 is
  half its unit, the margin of every "same accuracy" reading; it was 1 point
  until 2026-12-01, tightened to that one margin).
Paired intervals (per-seed differences): the arm and BS64 of one seed share
their initial weights and every epoch's shuffle order (harness/verdicts.py).
Contradicted when the interval lies wholly below the threshold.
The lr 0.1 arm's accuracy against BS64's is F2's reading ("recovers", the
same runs, one margin): F2 owns and judges it, F9's report section shows it
(post.F9.related).
Primary readings (claims/post.py): the three above, standard inputs.
Nulls that fail them: a harness that ignored the learning rate leaves the lr
0.1 arm at BS1024 lr 0.01's W (2.7 at paper scale, one seed: contradicted);
one that ignored the epoch count makes the 16x arm BS1024's 30-epoch run,
whose W and accuracy fall short of BS64's (contradicted);
tests/test_claim_nulls.py.
"""
import numpy as np
import pytest

from claims import post
from harness import protocol, verdicts
from harness.claim import uses
from harness.errors import NotAtThisScale
from harness.trainer import final, percent

FINDING = post.F9
SCALINGS = protocol.INPUT_SCALINGS
W_MARGIN = 0.10   # fraction of BS64's mean W: the 16x arm's distance (the same 10% as F10's equal steps)
A_MARGIN = post.SAME_ACCURACY_MARGIN  # 0.5 points: half the unit of the post's whole-percent accuracies
FAR_W = post.F8.numbers["best distance"]  # the post's "~6" from the init
FAR_W_TOLERANCE = 0.5  # half the unit of "~6" (one significant figure)
LONG_EPOCHS = protocol.equal_steps_epochs(30, 64, 1024)  # 480
ARMS = {"lr 0.1": dict(bs=1024, lr=0.1, epochs=30), "16x epochs": dict(bs=1024, lr=0.01, epochs=LONG_EPOCHS)}
READINGS = [("lr 0.1", "distance"), ("16x epochs", "distance"), ("16x epochs", "accuracy")]

# Paper-only at quick scale: the post's "~6" is an absolute distance after its 60k images x
# 30 epochs; every quick-scale distance is shorter (BS64 ~2.9), so a quick reading would
# judge the scale, not the claim.
PAPER_ONLY = ("paper-scale reading: the post's ~6 is an absolute distance at its full protocol, and every "
              "quick-scale distance is shorter; run without --quick")

# Every reading of this module is supported at quick scale on MNIST. On Fashion-MNIST
# the lr 0.1 accuracy comparison (inconclusive there, 2026-12-01) is now F2's reading.
KNOWN = ()


def reaches_far_distance(w_arm):
    """Per-seed W of BS1024 lr 0.1 -> does it reach the post's ~6?"""
    threshold = FAR_W - FAR_W_TOLERANCE
    return verdicts.greater(*verdicts.mean_ci(w_arm), threshold, f"{len(w_arm)} seeds",
                            f"mean W(BS1024 lr 0.1) > {threshold:g} (the post's ~{FAR_W:g} less half its unit; "
                            f"t {verdicts.CONFIDENCE:.0%} CI)")


def reaches_bs64_distance(w_arm, w64, detail=""):
    """Per-seed W of the 16x arm and of BS64 -> non-inferiority within 10% of BS64's W."""
    v = verdicts.paired_noninferiority(w_arm, w64, W_MARGIN * float(np.mean(w64)), what="W(arm) - W(BS64)",
                                       detail=f"margin = {W_MARGIN:.0%} of BS64's mean W {np.mean(w64):.3f}"
                                       + (f"; {detail}" if detail else ""))
    return verdicts.relative_margin(v, f"{W_MARGIN:.0%} of BS64's mean W")


def reaches_bs64_accuracy(a_arm, a64, detail=""):
    """Per-seed test accuracy (points) of the 16x arm and of BS64 -> non-inferiority."""
    return verdicts.paired_noninferiority(a_arm, a64, A_MARGIN, what="A(arm) - A(BS64) [points]", detail=detail)


def arm_and_bs64(scale, seeds, arm, quantity, scaling):
    if scale.name == "quick" and (arm, quantity) == ("lr 0.1", "distance"):
        raise NotAtThisScale(PAPER_ONLY)
    a = ARMS[arm]
    return {"arm": protocol.runs(scale, seeds, "sgd", a["bs"], a["lr"], a["epochs"], scaling=scaling),
            "BS64": protocol.runs(scale, seeds, "sgd", 64, 0.01, scaling=scaling)}


@uses(arm_and_bs64)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("arm, quantity", READINGS)
def test_large_batch_reaches_bs64(reading, runs, arm, quantity, scaling):
    n, ref = FINDING.numbers, post.F8.numbers
    steps = f"steps per run: arm {runs['arm'][0]['steps']}, BS64 {runs['BS64'][0]['steps']}"
    if quantity == "distance":
        a, b = ([final(r, "w_dist") for r in runs[k]] for k in ("arm", "BS64"))
        if arm == "lr 0.1":
            v, post_text = reaches_far_distance(a), f"reaches the far solutions (~{ref['best distance']:g})"
        else:
            v = reaches_bs64_distance(a, b, steps)
            post_text = f"16x epochs: W {n['16x epochs W']:g} vs BS64 {ref['W']:g}"
    else:
        a, b = percent(runs["arm"], "test_acc"), percent(runs["BS64"], "test_acc")
        v, post_text = reaches_bs64_accuracy(a, b, steps), f"A {n[arm + ' A']:g}% vs BS64 {ref['A']:g}%"
    key, unit = ("W", "") if quantity == "distance" else ("A", "%")
    what = "the post's ~6" if (arm, quantity) == ("lr 0.1", "distance") else f"BS64's {quantity}"
    reading(v, f"BS1024 {arm} reaches {what}", post=post_text, unit=unit,
            ours={f"{key} {arm}": a, f"{key} BS64": b})
