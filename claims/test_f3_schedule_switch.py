"""F3: a large batch at the start does not trap the model; switching later to
a small batch, or to a larger learning rate, still reaches the small-batch
accuracy.

The post (section on recovering by lowering the batch size) runs five
schedules and reports that the three switched ones all end near 98% test
accuracy, like the BS64 reference, while plotting only the last 30 epochs.
Its legend (followed here, as in CLAIMS.md): 1024x1 then 64x30; 1024x30 then
64x30; 1024 at lr 0.01 x30 then lr 0.1 x30; controls 64x30 and 1024x60.

Protocol: SGD, Glorot init, every seed; epochs follow the scale (quick: 30 ->
15, 1 -> 1). BS64 lr 0.01 x30 is F1's run. Mean/std inputs ("standard", the
post's protocol) by default, x/255 with --scaling x255|both, each its own
reading (the post does not say which it used).

Rules, per switched schedule (test accuracy after the last epoch, points; 90%
t intervals of the per-seed differences, paired because every schedule of one
seed starts from the same weights and draws the same permutation at every
epoch, harness/verdicts.py):
- vs-reference: not worse than BS64 x30 by more than DELTA =
  post.SAME_ACCURACY_MARGIN = 0.5 points (non-inferiority): the post says each
  switched run recovers the "98%" of BS64, a whole percent; 0.5 is half that
  unit, the margin of every "same accuracy" reading (claims/post.py);
- vs-control: above BS1024 x60 (superiority): the post says the switch
  achieves *better* test accuracy than keeping the large batch, and plots the
  un-switched BS1024 x60 run beside them as the control. vs-reference alone
  would pass under a harness that ignored the batch size (every schedule
  would be BS64's run); vs-control is the part that fails there.
Primary readings (claims/post.py): both, for each switched schedule, standard
inputs (the vs-control readings were made primary on 2026-12-01, issue 13,
from the post's "better", before any multi-seed paper-scale result).
Nulls that fail them: a switch that changes nothing (the model trapped: the
switched run stays at BS1024's accuracy) contradicts vs-reference; a harness
that ignored the batch size (or the learning rate, for the third schedule)
makes switched and control runs alike, never supported vs-control
(tests/test_claim_nulls.py).
"""
import pytest

from claims import figures, post
from harness import protocol, verdicts
from harness.claim import uses
from harness.expect import Known
from harness.trainer import percent

FINDING = post.F3
DELTA = post.SAME_ACCURACY_MARGIN  # 0.5 points: half the unit of the post's whole-percent accuracies
SCHEDULES = {  # name -> [(paper epochs, batch size, lr), ...]
    "64x30 (reference)": [(30, 64, 0.01)],
    "1024x60 (control)": [(60, 1024, 0.01)],
    "1024x1 then 64x30": [(1, 1024, 0.01), (30, 64, 0.01)],
    "1024x30 then 64x30": [(30, 1024, 0.01), (30, 64, 0.01)],
    "1024 lr0.01x30 then lr0.1x30": [(30, 1024, 0.01), (30, 1024, 0.1)],
}
SWITCHED = list(SCHEDULES)[2:]
REFERENCE, CONTROL = list(SCHEDULES)[:2]
SCALINGS = protocol.INPUT_SCALINGS

KNOWN = (
    Known("quick", "test_switch_recovers[1024 lr0.01x30 then lr0.1x30-vs-reference-x255]", "contradicted",
          scaling="x255", why="with x/255 inputs the lr 0.1 phase (short at quick scale) does not catch up"),
    Known("quick", "test_switch_recovers[1024 lr0.01x30 then lr0.1x30-vs-reference-standard]", "inconclusive",
          why="the quick scale's few seeds cannot resolve the 0.5-point margin; the lr 0.1 phase is short there"),
)

# --dataset fashion-mnist, quick scale, 3 seeds, measured on a 2-core Intel Xeon (2026-12-01).
KNOWN += (
    Known("quick", "test_switch_recovers[1024 lr0.01x30 then lr0.1x30-vs-reference-standard]", "inconclusive",
          dataset="fashion-mnist", why="the lr 0.1 phase ends below BS64 by more than the 0.5-point margin on "
                                       "average, and the few seeds cannot tell by how much"),
)


def schedules(scale, seeds, scaling):
    """Every schedule; single-phase 30-epoch ones are F1's runs (protocol.runs)."""
    return {name: protocol.runs(scale, seeds, "sgd", ph[0][1], ph[0][2], scaling=scaling)
            if len(ph) == 1 and ph[0][0] == 30 else [protocol.schedule(scale, s, ph, scaling=scaling) for s in seeds]
            for name, ph in SCHEDULES.items()}


def vs_reference(switched, reference, schedule):
    """Per-seed accuracies of a switched schedule and of BS64 x30 -> recovers the reference."""
    return verdicts.paired_noninferiority(switched, reference, DELTA,
                                          what=f"acc({schedule}) - acc(64x30) [points]")


def vs_control(switched, control, schedule):
    """Per-seed accuracies of a switched schedule and of BS1024 x60 -> better than not switching."""
    return verdicts.paired_superiority(switched, control, what=f"acc({schedule}) - acc(1024x60) [points]")


@uses(schedules)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("against", ["vs-reference", "vs-control"])
@pytest.mark.parametrize("schedule", SWITCHED)
def test_switch_recovers(ctx, runs, reading, schedule, against, scaling):
    acc = {name: percent(rs, "test_acc") for name, rs in runs.items()}
    if against == "vs-reference":
        v = vs_reference(acc[schedule], acc[REFERENCE], schedule)
        text = f"{schedule}: within {DELTA} points of 64x30 (non-inferiority)"
    else:
        v = vs_control(acc[schedule], acc[CONTROL], schedule)
        text = f"{schedule}: above the 1024x60 control"
    reading(v, text, post=f"all three switched runs ~{FINDING.numbers['switched test']:g}%", unit="%",
            ours={k: acc[k] for k in (schedule, REFERENCE, CONTROL)},
            figures=[figures.accuracy_curves(ctx, runs, "F3: schedules that switch batch size or lr",
                                             "f3_schedule_switch_last_epochs", scaling,
                                             last_epochs=ctx.scale.epochs(30))])
