"""F8: good solutions lie far from the initial weights, and with a batch-averaged
loss a large batch takes too few steps in a fixed number of epochs to get there.

The post (section "Getting Far Enough") trains for 30 epochs on a grid of batch
sizes (rows) and learning rates (columns) and reports, per cell, the distance
of the final weights from the initial ones (W), the same for the biases (B) and
the test accuracy (A). Its only cell given in the text is BS64 at lr 0.01:
W 6.71, B 0.11, A 98%. It reads the grid as: the best cells sit about 6 away
from the init, BS1024 at lr 0.01 cannot get that far, and a tenfold learning
rate lets it. (The numbers: post.F8.numbers.)

Protocol: protocol.runs(scale, seeds, "sgd", bs, lr, scaling=s) for bs in
64/256/1024, lr in 0.01/0.1, every seed, 30 paper epochs (15 at quick
scale), mean/std inputs ("standard", the primary readings) by default and x/255
with --scaling x255|both, each its own reading (the lr 0.01 runs are F1's). W and B are Euclidean distances over all weight matrices / all
bias vectors together, after the last epoch; A is test accuracy in points.

Rules (fixed before the runs):
- "W falls with batch size" (one reading per lr and scaling):
  `verdicts.monotone` on W for 64 -> 256 -> 1024, decreasing: W(BS64) above
  W(BS1024) by a Welch 90% interval above 0 and no adjacent pair significantly
  reversed.
- "A rises with W across the grid" (one reading per scaling): Spearman rank
  correlation between the cell means of W and of A over the 6 cells; its 90%
  percentile-bootstrap interval (seeds resampled within each cell, W and A of a
  run kept together) must lie above 0.5, i.e. a strong, not marginal, positive
  rank association. Below 0.5 is contradicted.
Primary readings (claims/post.py): W falls with batch size at lr 0.01, and A
rises with W, both with standard inputs.
The grid itself is rendered as a table laid out like the post's (rows BS,
columns lr, each cell W / B / A, mean over seeds), and drawn as a heat map of
the same layout (colour = test accuracy).
"""
import numpy as np
import pytest

from claims import figures, post
from harness import plots, protocol, verdicts
from harness.claim import uses
from harness.trainer import final, percent

FINDING = post.F8
BATCH_SIZES = (64, 256, 1024)
LRS = (0.01, 0.1)
SCALINGS = protocol.INPUT_SCALINGS
RHO_THRESHOLD = 0.5


def grid(scale, seeds, scaling):
    return {(bs, lr): protocol.runs(scale, seeds, "sgd", bs, lr, scaling=scaling)
            for bs in BATCH_SIZES for lr in LRS}


def measures(runs):
    """(bs, lr) -> W, B, A (points) per run."""
    return {cell: {"W": [final(r, "w_dist") for r in rs], "B": [final(r, "b_dist") for r in rs],
                   "A": percent(rs, "test_acc")} for cell, rs in runs.items()}


def table(g):
    """The post's layout: rows batch size, columns learning rate, cells W / B / A."""
    head = "| BS \\ LR | " + " | ".join(f"{lr:g}" for lr in LRS) + " |"
    rows = [head, "|---|" + "---|" * len(LRS)]
    for bs in BATCH_SIZES:
        cells = [f"W {np.mean(g[bs, lr]['W']):.3g}, B {np.mean(g[bs, lr]['B']):.3g}, "
                 f"A {np.mean(g[bs, lr]['A']):.1f}%" for lr in LRS]
        rows.append(f"| {bs} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def draw(ctx, g, scaling):
    fig, axes = plots.figure(2, 1)
    colors = {64: "tab:orange", 256: "tab:blue", 1024: "tab:purple"}
    for (bs, lr), m in g.items():
        marker = "o" if lr == 0.01 else "^"
        axes[0].scatter(m["W"], m["A"], color=colors[bs], marker=marker, label=f"BS{bs} lr{lr:g}")
        axes[1].scatter(m["W"], m["B"], color=colors[bs], marker=marker)
    axes[0].set(xlabel="W: weight distance from init", ylabel="test accuracy [%]")
    axes[1].set(xlabel="W: weight distance from init", ylabel="B: bias distance from init")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"F8: BS x lr grid, one point per seed ({scaling} inputs, {ctx.scale.name} scale)")
    return plots.save(fig, ctx.report_dir, f"f8_grid_{scaling}")


@uses(grid)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("lr", LRS)
def test_small_batch_travels_farther(ctx, reading, runs, lr, scaling):
    g = measures(runs)
    v = verdicts.monotone(BATCH_SIZES, [g[bs, lr]["W"] for bs in BATCH_SIZES], increasing=False,
                          what="W(BS64) - W(BS1024)")
    n = FINDING.numbers
    reading(v, f"W falls with batch size at lr {lr:g}",
            ours={f"BS{bs} W": g[bs, lr]["W"] for bs in BATCH_SIZES},
            post=f"BS64 lr 0.01 W {n['W']:g}; BS1024 at lr 0.01 cannot reach ~{n['best distance']:g}",
            figures=[draw(ctx, g, scaling)])


@uses(grid)
@pytest.mark.parametrize("scaling", SCALINGS)
def test_accuracy_rises_with_distance(ctx, reading, runs, record, scaling):
    g, n = measures(runs), FINDING.numbers
    by_w = ", ".join(f"BS{bs}/lr{lr:g} W {np.mean(g[bs, lr]['W']):.2f} A {np.mean(g[bs, lr]['A']):.1f}"
                     for bs, lr in sorted(g, key=lambda c: np.mean(g[c]["W"])))
    v = verdicts.rank_correlation([g[c]["W"] for c in g], [g[c]["A"] for c in g], RHO_THRESHOLD,
                                  what="mean W vs mean A over the BS x lr cells", detail=f"cells by W: {by_w}")
    record("table", finding=FINDING.id, title=f"W / B / A after 30 paper epochs, BS x lr [{scaling} inputs] "
                                              f"({ctx.scale.name} scale, mean over {len(ctx.seeds)} seeds)",
           text=table(g), note=f"The post's BS64 / lr 0.01 cell: W {n['W']:g}, B {n['B']:g}, A {n['A']:g}%.")
    reading(v, "test accuracy rises with W across the BS x lr grid",
            ours=f"Spearman rho {v.effect:.2f} over {len(g)} cells",
            post=f"best cells ~{n['best distance']:g} from init; closer cells generalise worse",
            figures=[draw(ctx, g, scaling), figures.grid_heatmap(ctx, g, BATCH_SIZES, LRS, "F8: BS x lr grid",
                                                                 "f8_grid_table", scaling)])
