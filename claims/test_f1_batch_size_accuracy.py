"""F1: a larger batch ends at a lower accuracy, on the test set and on the training set.

The post (section "Effect of batch size") trains its MLP with SGD at lr 0.01
for 30 epochs at batch sizes 64, 256 and 1024 and reports that accuracy after
training falls as the batch grows: BS64 reaches 100% train and 98% test, BS1024
about 96% test (95% in its later table). It adds that batch size 2 reached 99%
test accuracy, above BS64's 98%.

Protocol: protocol.sgd(scale, bs, 0.01, seed) for bs in 64/256/1024 and every
seed; Glorot-uniform init, short last batch kept. The post does not say how it
scaled the inputs: x/255 (the default) and mean/std ("standard") are separate
readings, on the same runs as F8's grid. At paper scale BS2 is run as its own
reading with x/255 inputs (slow: 900k steps a seed).

Rule: accuracy after the last epoch, in points, must decrease with batch size:
`verdicts.monotone` on 64 -> 256 -> 1024 (BS64 above BS1024 by a Welch 90%
interval above 0, and no adjacent pair significantly reversed). BS2 reading:
BS2 above BS64 (Welch interval above 0).
"""
import pytest

from harness import plots, protocol, verdicts
from harness.protocol import scaling_label
from harness.trainer import final, series

BATCH_SIZES = (64, 256, 1024)
LR = 0.01


SCALINGS = protocol.INPUT_SCALINGS


def runs(scale, seeds, bs, scaling=protocol.DEFAULT_SCALING):
    return [protocol.sgd(scale, bs, LR, s, scaling=scaling) for s in seeds]


def required(scale, seeds, tests=None):
    """tests: the selected test functions (None: all); BS2 only when its test runs."""
    out = [r for sc in SCALINGS for bs in BATCH_SIZES for r in runs(scale, seeds, bs, sc)]
    bs2 = scale.name == "paper" and (tests is None or "test_batch_size_2_beats_64" in tests)
    return out + (runs(scale, seeds, 2) if bs2 else [])


def draw(ctx, recs, scaling):
    fig, axes = plots.figure(2, 2)
    for bs, color in zip(BATCH_SIZES, ("tab:orange", "tab:blue", "tab:purple")):
        for ax, key in zip(axes, ("train_acc", "test_acc", "train_loss", "test_loss")):
            x, ys = series(recs[bs], key)
            plots.band(ax, x, ys, f"BS{bs}", color)
            ax.set(xlabel="epoch", ylabel=key.replace("_", " "))
    axes[0].legend()
    fig.suptitle(f"F1: accuracy and loss per epoch, lr {LR} ({scaling} inputs, {ctx.scale.name} scale; "
                 f"band = min..max over seeds)")
    return plots.save(fig, ctx.report_dir, f"f1_accuracy_per_batch_size_{scaling}")


@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("split", ["test", "train"])
def test_larger_batch_lowers_accuracy(ctx, record, judge, split, scaling):
    recs = {bs: ctx.records(runs(ctx.scale, ctx.seeds, bs, scaling)) for bs in BATCH_SIZES}
    acc = {bs: [100 * final(r, f"{split}_acc") for r in recs[bs]] for bs in BATCH_SIZES}
    v = verdicts.monotone(BATCH_SIZES, [acc[bs] for bs in BATCH_SIZES], increasing=False)
    v.detail = f"effect = acc(BS64) - acc(BS1024) in points; {v.detail}"
    means = {bs: sum(a) / len(a) for bs, a in acc.items()}
    post = "BS64 98%, BS1024 ~96%" if split == "test" else "BS64 100%, lower for larger batches"
    record(finding="F1", reading=f"{split} accuracy falls with batch size (64/256/1024)"
                                 f"{scaling_label(scaling)}", verdict=v,
           post=post, ours=", ".join(f"BS{bs} {m:.2f}%" for bs, m in means.items()),
           protocol={k: recs[64][0]["config"][k]
                     for k in ("init", "scaling", "drop_last", "train_subset", "test_subset")},
           figures=[draw(ctx, recs, scaling)])
    judge(f"{split}-monotone-{scaling}", v)


@pytest.mark.paper_only
def test_batch_size_2_beats_64(ctx, record, judge):
    if ctx.scale.name != "paper":
        pytest.skip("paper-scale reading: BS2 takes 900k steps a seed (run without --quick)")
    a2 = [100 * final(r, "test_acc") for r in ctx.records(runs(ctx.scale, ctx.seeds, 2))]
    a64 = [100 * final(r, "test_acc") for r in ctx.records(runs(ctx.scale, ctx.seeds, 64))]
    v = verdicts.superiority(a2, a64, what="acc(BS2) - acc(BS64) [points]")
    record(finding="F1", reading="BS2 test accuracy above BS64's", verdict=v, post="BS2 99% vs BS64 98%",
           ours=f"BS2 {sum(a2) / len(a2):.2f}%, BS64 {sum(a64) / len(a64):.2f}%")
    judge("bs2", v)
