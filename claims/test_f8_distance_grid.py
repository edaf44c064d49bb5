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
- "At equal training loss, the farther run tests better" (one reading per
  scaling; rule fixed for issue 13 before any run was read with it). The grid's
  final solutions cannot tell distance from training progress: a run that
  takes more (or larger) steps both travels farther (F10) and fits the
  training set better, so its final W and A rise together even if accuracy
  depended on the train loss alone (the Spearman reading below is 1 whenever
  the runs that fit best also travelled farthest). So, per seed, the six grid runs are read at 24 train-loss
  levels (trajectory.LEVELS), log-spaced from the lowest final train loss to
  the highest first-epoch one, each run where its train loss first falls to
  the level (harness/trajectory.py: linear in log loss between two evaluated
  epochs >= 1; a run whose evaluated epochs do not bracket a level sits it
  out; a level needs two runs). The within-level least-squares slope of test
  accuracy on W (one intercept per level: a run is compared only with runs
  that fit the training set as well) is divided by the slope of final A on
  final W across the six cells (what the grid shows, progress included).
  That share is about 1 if accuracy follows distance whatever the loss, about
  0 if distance only stands in for training progress. Rule: the mean share
  over seeds, 90% t interval, above SHARE_MIN = 0.5; contradicted if below.
  Why 0.5: the post does not stop at "some far solution is better" (the grid
  shows that whatever the cause); it offers distance as the reason a large
  batch generalises worse (it cannot travel far enough) and concludes that
  small batches find the far, better optima because they take more steps. A
  reason that carries less than half of the grid's accuracy-per-distance
  among equally well fitted runs is not the reason: the larger part is
  training progress. 0.5 is the midpoint between the two explanations.
  Where it fails: on records whose test accuracy is a function of the train
  loss alone (tests/test_trajectory.py feeds the rule such a synthetic null:
  contradicted, share ~0; and records where accuracy follows distance alone:
  supported, share ~1).
- "A rises with W across the grid" (one reading per scaling, secondary): Spearman rank
  correlation between the cell means of W and of A over the 6 cells; its 90%
  percentile-bootstrap interval (seeds resampled within each cell, W and A of a
  run kept together) must lie above 0.5, i.e. a strong, not marginal, positive
  rank association. Below 0.5 is contradicted. It describes the grid as the
  post reads it, and cannot fail for the reason above.

Adam and the word "can". The post writes that better solutions *can* lie far
from the init, not that the farther solution is always better. Adam's
solutions are far (F11: W 254 in the post, about 280 here at paper scale) and
worse, and the post reads them as another kind of solution: much larger
weights (F11), off the sphere of the initial radius (F12). Its claim is about
SGD's solutions, the family the grid spans: the good ones among them lie at a
distance the large batch does not reach in its epochs. Adam's far, worse
solutions show that distance is not sufficient, which the post never says;
they do not contradict "can". The rule therefore compares SGD runs only.

Measured (quick scale, 3 seeds, standard inputs, the first run of the rule):
the equal-loss share is -1.51 [-2.00, -1.02], contradicted: among runs that
fit the training set equally well the farther one tests *worse*, by about 2
points per unit W, where the final solutions gain 1.4 per unit W. The lr 0.1
runs lie farther at equal loss and test no better (worse in their first
epochs). 12 or 48 levels instead of 24 give the same sign in every seed (not
a rule: a check that the level count does not decide it). With x/255 inputs:
-3.54 [-5.00, -2.07], contradicted too.

Primary readings (claims/post.py): W falls with batch size at lr 0.01 (the
large batch does not get far), and at equal training loss the farther run
tests better (far solutions are the better ones, progress held fixed), both
with standard inputs. The Spearman reading was primary until issue 13; it
is secondary now because training progress alone makes it 1.
The grid itself is rendered as a table laid out like the post's (rows BS,
columns lr, each cell W / B / A, mean over seeds), and drawn as a heat map of
the same layout (colour = test accuracy); the equal-loss rule is drawn as test
accuracy and W against the train loss, and the within-level (W, A) points
with both slopes.
"""
import numpy as np
import pytest

from claims import figures, post
from harness import plots, protocol, trajectory, verdicts
from harness.claim import uses
from harness.expect import Known
from harness.trainer import final, percent

FINDING = post.F8
BATCH_SIZES = (64, 256, 1024)
LRS = (0.01, 0.1)
SCALINGS = protocol.INPUT_SCALINGS
RHO_THRESHOLD = 0.5  # secondary: a strong, not marginal, rank association across the grid
SHARE_MIN = 0.5      # distance must carry over half the grid's accuracy-per-distance at equal fit (docstring)
CELL_COLORS = {64: "tab:orange", 256: "tab:blue", 1024: "tab:purple"}

KNOWN = (
    Known("quick", "test_farther_is_better_at_equal_loss[standard]", "contradicted",
          why="at equal train loss the farther runs (lr 0.1) test no better than the nearer ones: the grid's rise "
              "of accuracy with distance is training progress"),
    Known("quick", "test_farther_is_better_at_equal_loss[x255]", "contradicted", scaling="x255",
          why="as with standard inputs: at equal train loss the farther runs test worse"),
    Known("quick", "test_farther_is_better_at_equal_loss[standard]", "contradicted", dataset="fashion-mnist",
          why="on Fashion-MNIST too, at equal train loss the farther runs test worse: distance tracks progress"),
    # paper scale, 3 seeds, the campaign's published runs (2026-12-02)
    Known("paper", "test_farther_is_better_at_equal_loss[standard]", "contradicted",
          why="at the post's protocol too: at equal train loss the farther runs test slightly worse (within-level "
              "slope negative on every seed) while the grid's accuracy rises with distance, so the rise is "
              "training progress, and the share stays wholly below the rule's minimum"),
)


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


# -- at equal training loss ------------------------------------------------------------
def histories_by_seed(runs):
    """[seed][cell] histories, the cells in the grid's order."""
    cells = list(runs)
    return [[runs[c][i]["history"] for c in cells] for i in range(len(runs[cells[0]]))]


def equal_loss_verdict(by_seed):
    """The rule: per seed, the share of the grid's accuracy-per-distance left
    among runs at equal train loss; its mean over seeds above SHARE_MIN."""
    shares = [trajectory.distance_share(hs) for hs in by_seed]
    within = [trajectory.within_level_slope(hs) for hs in by_seed]
    grid_ = [trajectory.final_slope(hs) for hs in by_seed]
    m, ci = verdicts.mean_ci(shares)
    return verdicts.greater(
        m, ci, SHARE_MIN, f"{len(shares)} seeds",
        f"within-level slope of A on W at equal train loss / slope of final A on final W > {SHARE_MIN:g} "
        f"(t {verdicts.CONFIDENCE:.0%} CI over seeds)",
        detail=f"per seed: share {_fmt(shares)}; within-level slope {_fmt(100 * np.asarray(within))} points "
               f"per unit W; grid slope {_fmt(100 * np.asarray(grid_))} points per unit W")


def _fmt(xs):
    return "[" + " ".join(f"{x:.3g}" for x in xs) + "]"


def draw_equal_loss(ctx, runs, scaling):
    """Left, middle: test accuracy and W against the train loss, one line per
    run (the rule reads them across at equal loss). Right: every run at every
    shared level, W and A minus their level's mean, with the within-level
    slope (the rule's numerator) and the grid's slope of final A on final W
    (its denominator)."""
    fig, axes = plots.figure(3, 1, size=(4.6, 3.8))
    for (bs, lr), rs in runs.items():
        for i, r in enumerate(rs):
            h = r["history"]
            keep = [k for k, e in enumerate(h["epoch"]) if e >= 1]
            loss = [h["train_loss"][k] for k in keep]
            style = dict(color=CELL_COLORS[bs], ls="-" if lr == 0.01 else "--", lw=0.9,
                         label=f"BS{bs} lr{lr:g}" if i == 0 else None)
            axes[0].plot(loss, [100 * h["test_acc"][k] for k in keep], **style)
            axes[1].plot(loss, [h["w_dist"][k] for k in keep], **style)
    for ax, label in zip(axes[:2], ("test accuracy [%]", "W: weight distance from init")):
        ax.set(xscale="log", xlabel="train loss (falls to the right)", ylabel=label)
        ax.invert_xaxis()
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6)
    by_seed = histories_by_seed(runs)
    for hs in by_seed:
        dw, da = trajectory.centred(trajectory.equal_loss_points(hs))
        axes[2].scatter(dw, 100 * da, s=6, alpha=0.5, color="tab:gray")
    x = np.linspace(*axes[2].get_xlim(), 2)
    within = 100 * np.mean([trajectory.within_level_slope(hs) for hs in by_seed])
    grid_ = 100 * np.mean([trajectory.final_slope(hs) for hs in by_seed])
    axes[2].plot(x, within * x, color="tab:red", label=f"within level: {within:.2g} points / unit W")
    axes[2].plot(x, grid_ * x, "k:", label=f"final solutions: {grid_:.2g} points / unit W")
    axes[2].plot(x, SHARE_MIN * grid_ * x, color="tab:green", lw=0.8,
                 label=f"the rule's margin: {SHARE_MIN:g} x final")
    axes[2].set(xlabel="W - level's mean W", ylabel="A - level's mean A [points]",
                title=f"runs at equal train loss ({trajectory.LEVELS} levels, all seeds)")
    axes[2].legend(fontsize=6)
    fig.suptitle(f"F8: is the farther run better at equal train loss? ({scaling} inputs, {ctx.scale.name} scale)")
    return plots.save(fig, ctx.report_dir, f"f8_equal_loss_{scaling}")


@uses(grid)
@pytest.mark.parametrize("scaling", SCALINGS)
def test_farther_is_better_at_equal_loss(ctx, reading, runs, scaling):
    v = equal_loss_verdict(histories_by_seed(runs))
    reading(v, "at equal training loss the farther SGD run tests better (share of the grid's "
               "accuracy-per-distance)",
            ours=f"share {v.effect:.2f}", post="better solutions can lie far from the init; a large batch "
                                                "generalises worse because it cannot travel far enough",
            figures=[draw_equal_loss(ctx, runs, scaling)])
