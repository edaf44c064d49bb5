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

Rules (fixed before the runs), 90% t intervals over seeds:
- SGD norm (per SGD config): |W_final| / |W_init| - 1 inside (-5%, +5%) ("a
  few percent"; the post's largest change from 43.95 is +2.2%).
- cosines (per config): SGD: the smallest of the three layer cosines above
  0.9 (the post's smallest is 0.928); Adam: the largest below 0.5 (the post's
  largest is 0.359).
- second layer moves least (per config): cos(layer 2) - max(cos(layer 1),
  cos(layer 3)) above 0. (The post's own BS1024 row ties layers 1 and 2 at
  0.998.)
Primary readings (claims/post.py): the SGD norms and every configuration's
cosines, standard inputs; "second layer moves least" is secondary.
"""
import numpy as np
import pytest

from claims import post
from harness import plots, protocol, verdicts
from harness.claim import uses
from harness.expect import Known

FINDING = post.F12
SCALINGS = protocol.INPUT_SCALINGS
NORM_MARGIN = 0.05
SGD_COS_MIN = 0.9
ADAM_COS_MAX = 0.5
CONFIGS = protocol.NORM_TABLE  # name -> (optimizer, batch size, lr, paper epochs)
SGD_CONFIGS = [c for c in CONFIGS if c.startswith("SGD")]

KNOWN = (
    Known("quick", "test_second_layer_changes_least[Adam BS64-x255]", "inconclusive", scaling="x255",
          why="with x/255 inputs Adam's first and second layers keep about as much of their init (the old quick "
              "scale found the first ahead); with standard inputs the second layer is highest"),
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


@uses(protocol.table_runs)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_second_layer_changes_least(reading, runs, name, scaling):
    c = cosines(runs)
    m, ci = verdicts.mean_ci(c[:, 1] - np.maximum(c[:, 0], c[:, 2]))
    v = verdicts.greater(m, ci, 0.0, f"{len(c)} seeds", "cos(layer 2) - max(cos(layer 1), cos(layer 3)) > 0")
    reading(v, f"{name}: the second layer moves least (highest cosine)",
            post=cos_text(FINDING.numbers["cos"][name]), ours=cos_text(c.mean(0), 4))
