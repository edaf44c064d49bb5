"""F12: SGD keeps the weights close to the sphere of their initial radius and
close in direction to where they started; Adam leaves both behind.

The post (section "ADAM vs SGD") gives the norm of the final weights: SGD
BS64 44.9, BS1024 44.1, BS1024 lr 0.1 44.7, BS1024 for 480 epochs 44.9, Adam
BS64 258, where the Glorot initial norm is about 44 (43.95 expected). It gives
the cosine between final and initial weights for each of the three layers:
SGD BS64 [0.988 0.993 0.928], BS1024 [0.998 0.998 0.978], BS1024 lr 0.1
[0.991 0.994 0.936], BS1024 480 epochs [0.989 0.993 0.930]; Adam BS64
[0.124 0.359 0.153]. It reads them as: with SGD learning mostly turns the
weights on the initial sphere; Adam ignores the initialisation; the second
layer moves least.

The numbers: post.F12.numbers ("norm", "cos", "glorot init norm").

Protocol: the F8/F9/F11 runs, one row of protocol.NORM_TABLE each:
protocol.table_runs(scale, seeds, name, scaling): SGD BS64 | BS1024 at lr
0.01 | 0.1, BS1024 at lr 0.01 for 480 epochs, Adam BS64 at lr 0.01; 30 paper
epochs (15 at quick scale; 240 for the 480-epoch arm). Mean/std inputs
("standard", the primary readings) by default, x/255 with --scaling
x255|both; at quick scale the 480-epoch arm runs with the default scaling
only (protocol.check: its x/255 readings skip there).

Rules, 90% t intervals over seeds. The post's sentence has two clauses,
each judged on its own: SGD's init has about the magnitude the weights end
with, and most of SGD's learning moves the weights along the sphere of that
radius.
- SGD norm (per SGD config; fixed before the first runs): |W_final| /
  |W_init| - 1 inside (-5%, +5%) ("a few percent"; the post's largest change
  from 43.95 is +2.2%). This clause adds little to F8: a displacement d
  orthogonal to w0 changes the norm by about |d|^2 / (2 |w0|), so the norm
  stays within 5% whenever |d| < ~0.32 |w0| (about 14 here), whatever the
  direction of the move. It stays primary as the post's own numbers.
- SGD moves along the sphere (per SGD config; fixed for issue 13 before these
  readings were computed): the radial fraction of the displacement, rho =
  w0.d / (|w0| |d|) (harness/trajectory.py, from the recorded norms at epoch 0
  and at the end and W: |w|^2 = |w0|^2 + 2 w0.d + |d|^2), inside (-RADIAL_MAX,
  +RADIAL_MAX), RADIAL_MAX = 1/sqrt(2). Why: "most of the learning" moves
  along the sphere when the displacement's component along the sphere is
  longer than its component along w0, i.e. more than half of |d|^2 is
  tangential: rho^2 < 1/2. Unlike the norm, rho does not grow with |d|: it
  says where the move points, not how long it is. What it can and cannot
  tell: in 1.8M dimensions an unstructured displacement is orthogonal to w0
  to about 1e-3, so the rule does not separate learning from noise; it fails
  against the alternative the post's sentence denies, learning that mostly
  rescales the weights (growth, as cross-entropy without weight decay can
  drive, or shrinkage, as weight decay does: rho near +1 or -1; a synthetic
  radial displacement in tests/test_trajectory.py is contradicted). The norm
  against what the distance alone implies, sqrt(|w0|^2 + |d|^2), is drawn for
  SGD and Adam beside it: the gap between the two is the radial part.
- every layer moves along its sphere (secondary, per SGD config): the same
  margin on the largest |rho| of the three layers, from the recorded layer
  norms and cosines (law of cosines).
- cosines (per config): SGD: the smallest of the three layer cosines above
  0.9 (the post's smallest is 0.928); Adam: the largest below 0.5 (the post's
  largest is 0.359).
- second layer moves least (per config, secondary; margin fixed for issue 13;
  it was 0 before): the share of its direction layer 2 loses, 1 - cos, over
  the least any other layer loses, below SECOND_LAYER_RATIO_MAX = 0.9, i.e.
  layer 2 loses at least 10% less than the nearest other layer. Why: the post
  reads "least changed" off cosines printed to three decimals; where its rows
  show an order, layer 2 loses 24-42% less than the next layer (BS64 0.007
  vs 0.012, lr 0.1 0.006 vs 0.009, 480 epochs 0.007 vs 0.011, Adam 0.641 vs
  0.847), and where they show none (BS1024, 0.998 and 0.998) the rounding
  hides any ratio from 0.6 to 1.7. A lead under 10%, less than half the
  smallest one the post saw, is a tie, not "least changed". A ratio, not a
  difference of cosines: a difference shrinks with how far the run moved
  (6e-5 for BS1024 at quick scale), a ratio does not.
Measured (quick scale, 3 seeds, standard inputs, the first run of these
rules): the radial fraction is +0.019 to +0.041 for the SGD configs (Adam
BS64: -0.006); per layer the last layer's is the largest, +0.20 to +0.42
(it grows outward), layers 1 and 2 stay under 0.03: supported, with a wide
margin. Layer 2's ratio of lost direction is 0.68-0.83 for SGD (supported)
and 0.91 [0.89, 0.94] for Adam (inconclusive). With x/255 inputs: radial
fractions +0.019 to +0.048; layer 2's ratio 0.70-0.82 for SGD, 0.99 [0.96,
1.02] for Adam (contradicted: a tie).

Primary readings (claims/post.py): the SGD norms, the SGD radial fractions
and every configuration's cosines, standard inputs; "every layer moves along
its sphere" and "second layer moves least" are secondary.
"""
import math

import numpy as np
import pytest

from claims import figures, post
from harness import plots, protocol, trajectory, verdicts
from harness.claim import uses
from harness.expect import Known
from harness.trainer import final

FINDING = post.F12
SCALINGS = protocol.INPUT_SCALINGS
NORM_MARGIN = 0.05
SGD_COS_MIN = 0.9
ADAM_COS_MAX = 0.5
RADIAL_MAX = 1 / math.sqrt(2)   # "most" of the move along the sphere: rho^2 < 1/2 of |d|^2 is radial (docstring)
SECOND_LAYER_RATIO_MAX = 0.9    # layer 2 loses >= 10% less direction than the next layer; less is a tie (docstring)
CONFIGS = protocol.NORM_TABLE  # name -> (optimizer, batch size, lr, paper epochs)
SGD_CONFIGS = [c for c in CONFIGS if c.startswith("SGD")]

KNOWN = (
    Known("quick", "test_second_layer_changes_least[Adam BS64-x255]", "contradicted", scaling="x255",
          why="with x/255 inputs Adam's first and second layers lose about as much of their direction: a tie "
              "under the rule's margin (the old rule, without a margin, was inconclusive here)"),
    Known("quick", "test_second_layer_changes_least[Adam BS64-standard]", "inconclusive",
          why="Adam's second layer loses less of its direction than the first layer: ahead, but by about the "
              "rule's margin (Intel Xeon; Adam's quick runs differ by CPU)"),
)


def cosines(recs):
    """[seed][layer] final cosine with the initial weights."""
    return np.asarray([r["history"]["cos"][-1] for r in recs], float)


def cos_text(c, digits=3):
    return "[" + " ".join(f"{x:.{digits}f}" for x in c) + "]"


def draw(ctx, scaling):
    """Every NORM_TABLE row that runs here (and --max-epochs allows), beside the post's numbers."""
    rows = {n: ctx.records(specs) for n, specs in protocol.table_rows_here(ctx.scale, ctx.seeds, scaling).items()
            if ctx.available(specs)}
    post_cos, post_norm, init = (FINDING.numbers[k] for k in ("cos", "norm", "glorot init norm"))
    fig, axes = plots.figure(2, 1, size=(6.0, 3.8))
    for i, (n, recs) in enumerate(rows.items()):
        c = cosines(recs)
        for layer in range(3):
            x = i + (layer - 1) * 0.25
            axes[0].bar(x, c[:, layer].mean(), width=0.24, color=("tab:blue", "tab:green", "tab:red")[layer],
                        label=f"layer {layer + 1}" if i == 0 else None)
            axes[0].plot([x], [post_cos[n][layer]], "k_", markersize=10, label="the post" if i == layer == 0 else None)
    axes[0].set_xticks(range(len(rows)), [n.replace(" ", "\n", 2) for n in rows], fontsize=7)
    axes[0].set(ylabel="cos(final, initial weights)", title="bars: ours; dashes: the post")
    axes[0].legend(fontsize=7)
    for i, (n, recs) in enumerate(rows.items()):
        r = [rec["history"]["w_norm"][-1] / rec["history"]["w_norm"][0] for rec in recs]
        axes[1].bar(i, np.mean(r), color="tab:gray")
        axes[1].plot([i], [post_norm[n] / init], "k_", markersize=12)
    axes[1].set_yscale("log")
    axes[1].set_xticks(range(len(rows)), [n.replace(" ", "\n", 2) for n in rows], fontsize=7)
    axes[1].set(ylabel="|W final| / |W init|", title=f"bars: ours; dashes: the post's norm / {init:g}")
    fig.suptitle(f"F12: cosines per layer and norm ratio ({scaling} inputs, {ctx.scale.name} scale, "
                 f"mean over seeds)")
    return plots.save(fig, ctx.report_dir, f"f12_cosines_norms_{scaling}")


@uses(protocol.table_runs)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("name", SGD_CONFIGS)
def test_sgd_norm_stays_on_initial_sphere(ctx, reading, runs, name, scaling):
    rel = [r["history"]["w_norm"][-1] / r["history"]["w_norm"][0] - 1 for r in runs]
    m, ci = verdicts.mean_ci(rel)
    v = verdicts.within(m, ci, 0.0, NORM_MARGIN, f"{len(rel)} seeds",
                        f"|W_final|/|W_init| - 1 within +-{NORM_MARGIN:g}")
    init, fin = (np.mean([r["history"]["w_norm"][i] for r in runs]) for i in (0, -1))
    reading(v, f"{name}: final weight norm within 5% of the initial",
            post=f"{FINDING.numbers['norm'][name]:g} (init ~44, Glorot {FINDING.numbers['glorot init norm']:g})",
            ours=f"{fin:.3f} from {init:.3f} ({m:+.2%})", figures=[draw(ctx, scaling)])


@uses(protocol.table_runs)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_layer_cosines(ctx, reading, runs, name, scaling):
    c = cosines(runs)
    if name.startswith("SGD"):
        m, ci = verdicts.mean_ci(c.min(1))
        v = verdicts.greater(m, ci, SGD_COS_MIN, f"{len(c)} seeds", f"min over layers of cos > {SGD_COS_MIN:g}")
        text = f"{name}: every layer's cosine with its init stays high"
    else:
        m, ci = verdicts.mean_ci(c.max(1))
        v = verdicts.less(m, ci, ADAM_COS_MAX, f"{len(c)} seeds", f"max over layers of cos < {ADAM_COS_MAX:g}")
        text = f"{name}: every layer's cosine with its init is low"
    reading(v, text, post=cos_text(FINDING.numbers["cos"][name]), ours=cos_text(c.mean(0)),
            figures=[draw(ctx, scaling)])


def second_layer_ratio(c):
    """Per seed: (1 - cos of layer 2) / min(1 - cos of layers 1 and 3)."""
    lost = 1.0 - np.asarray(c, float)
    return lost[:, 1] / np.minimum(lost[:, 0], lost[:, 2])


def second_layer_verdict(c):
    m, ci = verdicts.mean_ci(second_layer_ratio(c))
    return verdicts.less(m, ci, SECOND_LAYER_RATIO_MAX, f"{len(c)} seeds",
                         f"(1 - cos layer 2) / min(1 - cos layer 1, 1 - cos layer 3) < {SECOND_LAYER_RATIO_MAX:g}")


@uses(protocol.table_runs)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_second_layer_changes_least(ctx, reading, runs, name, scaling):
    c = cosines(runs)
    v = second_layer_verdict(c)
    reading(v, f"{name}: the second layer moves least (loses at least 10% less of its direction)",
            post=cos_text(FINDING.numbers["cos"][name]),
            ours=f"{cos_text(c.mean(0), 4)}; 1 - cos {cos_text(1 - c.mean(0), 5)}",
            figures=[draw_radial(ctx, scaling)])


# -- the direction of the move: along the sphere or along w0 ------------------------------
def radial_verdict(recs):
    """The rule: the radial fraction of the whole weights' displacement, inside +-RADIAL_MAX."""
    rho = [trajectory.radial_fraction_of(r) for r in recs]
    m, ci = verdicts.mean_ci(rho)
    return verdicts.within(m, ci, 0.0, RADIAL_MAX, f"{len(rho)} seeds",
                           f"radial fraction w0.d / (|w0| |d|) within +-{RADIAL_MAX:.3f} (1/sqrt 2)")


def layer_rhos(recs):
    """[seed][layer] radial fraction of each layer's displacement."""
    return np.asarray([trajectory.layer_radial_fractions(r) for r in recs], float)


def draw_radial(ctx, scaling):
    """The direction figure, drawn once per report directory and scaling."""
    return figures.drawn_once(ctx, f"f12_radial_{scaling}", lambda: radial_figure(ctx, scaling))


def radial_figure(ctx, scaling):
    """What the direction rules judge, for every NORM_TABLE row that runs here.
    Left: |w| / |w0| against |d| / |w0|, per seed, beside sqrt(1 + x^2), the
    norm a move orthogonal to w0 gives (the norm rule's verdict follows from
    the distance alone along that curve; a gap from it is the radial part).
    Middle: the radial fraction rho of all weights (bars) and of each layer
    (dots), with the +-1/sqrt 2 margin. Right: 1 - cos per layer (log), the
    share of its direction each layer loses (the second-layer rule's ratio)."""
    rows = {n: ctx.records(specs) for n, specs in protocol.table_rows_here(ctx.scale, ctx.seeds, scaling).items()
            if ctx.available(specs)}
    fig, axes = plots.figure(3, 1, size=(4.6, 3.8))
    colors = dict(zip(CONFIGS, ("tab:orange", "tab:purple", "tab:blue", "tab:green", "tab:red")))
    xs_seen = []
    for n, recs in rows.items():
        x = [final(r, "w_dist") / r["history"]["w_norm"][0] for r in recs]
        y = [final(r, "w_norm") / r["history"]["w_norm"][0] for r in recs]
        axes[0].scatter(x, np.asarray(y) - 1, color=colors[n], s=12, label=n)
        xs_seen += x
    xs = np.geomspace(0.5 * min(xs_seen), 1.5 * max(xs_seen), 100)
    axes[0].plot(xs, np.sqrt(1 + xs ** 2) - 1, "k:", lw=1, label="move orthogonal to w0")
    axes[0].plot(xs, 0.05 + 0 * xs, color="gray", lw=0.8, label="the norm rule's +5%")
    axes[0].set(xscale="log", yscale="log", xlabel="|d| / |w0|", ylabel="|w| / |w0| - 1")
    axes[0].legend(fontsize=6)
    for i, (n, recs) in enumerate(rows.items()):
        rho = [trajectory.radial_fraction_of(r) for r in recs]
        axes[1].bar(i, np.mean(rho), color=colors[n], alpha=0.6)
        for layer, marker in enumerate("os^"):
            axes[1].scatter([i + (layer - 1) * 0.2] * len(recs), layer_rhos(recs)[:, layer], color="k", s=8,
                            marker=marker, label=f"layer {layer + 1}" if i == 0 else None)
        c = cosines(recs)
        for layer, marker in enumerate("os^"):
            axes[2].scatter([i + (layer - 1) * 0.2] * len(c), 1 - c[:, layer], color=colors[n], s=10, marker=marker,
                            label=f"layer {layer + 1}" if i == 0 else None)
    for ax in axes[1:]:
        ax.set_xticks(range(len(rows)), [n.replace(" ", "\n", 2) for n in rows], fontsize=6)
    for sign in (1, -1):
        axes[1].axhline(sign * RADIAL_MAX, color="gray", lw=0.8, ls="--")
    axes[1].axhline(0, color="k", lw=0.5)
    axes[1].set(ylim=(-1, 1), ylabel="radial fraction w0.d / (|w0| |d|)",
                title="bars: all weights; dots: layers; dashed: +-1/sqrt 2")
    axes[1].legend(fontsize=6)
    axes[2].set(yscale="log", ylabel="1 - cos(final, initial), per layer",
                title="direction lost per layer (per seed)")
    axes[2].legend(fontsize=6)
    fig.suptitle(f"F12: where the move points ({scaling} inputs, {ctx.scale.name} scale)")
    return fig


@uses(protocol.table_runs)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("name", SGD_CONFIGS)
def test_sgd_moves_along_the_sphere(ctx, reading, runs, name, scaling):
    v = radial_verdict(runs)
    d = np.mean([final(r, "w_dist") for r in runs])
    reading(v, f"{name}: the displacement from the init lies mostly along the sphere (radial fraction)",
            post="most of SGD's learning moves the weights along the sphere of the initial radius",
            ours=f"rho {v.effect:+.3f} over |d| {d:.3g}; per layer {cos_text(layer_rhos(runs).mean(0))}",
            figures=[draw_radial(ctx, scaling)])


@uses(protocol.table_runs)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("name", SGD_CONFIGS)
def test_every_layer_moves_along_its_sphere(ctx, reading, runs, name, scaling):
    rho = layer_rhos(runs)
    m, ci = verdicts.mean_ci(np.abs(rho).max(1))
    v = verdicts.less(m, ci, RADIAL_MAX, f"{len(rho)} seeds",
                      f"max over layers of |radial fraction| < {RADIAL_MAX:.3f} (1/sqrt 2)")
    reading(v, f"{name}: every layer's displacement lies mostly along its sphere",
            post="most of SGD's learning moves the weights along the sphere of the initial radius",
            ours=f"per layer rho {cos_text(rho.mean(0))}", figures=[draw_radial(ctx, scaling)])
