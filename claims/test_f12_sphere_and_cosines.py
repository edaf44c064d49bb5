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

Protocol: the F8/F9/F11 runs: protocol.sgd(scale, 64 | 1024, 0.01 | 0.1,
seed, scaling=s), protocol.sgd(scale, 1024, 0.01, seed, epochs=480) and
protocol.adam(scale, 64, 0.01, seed, scaling=s); 30 paper epochs (6 at quick
scale; 96 for the 480-epoch arm). Both input scalings are read separately; at
quick scale the 480-epoch arm runs only with x/255 inputs (its standard
readings skip there).

Rules (fixed before the runs), 90% t intervals over seeds:
- SGD norm (per SGD config): |W_final| / |W_init| - 1 inside (-5%, +5%) ("a
  few percent"; the post's largest change from 43.95 is +2.2%).
- cosines (per config): SGD: the smallest of the three layer cosines above
  0.9 (the post's smallest is 0.928); Adam: the largest below 0.5 (the post's
  largest is 0.359).
- second layer moves least (per config): cos(layer 2) - max(cos(layer 1),
  cos(layer 3)) above 0. (The post's own BS1024 row ties layers 1 and 2 at
  0.998.)
"""
import numpy as np
import pytest

from harness import plots, protocol, verdicts
from harness.protocol import scaling_label

SCALINGS = protocol.INPUT_SCALINGS
NORM_MARGIN = 0.05
SGD_COS_MIN = 0.9
ADAM_COS_MAX = 0.5
CONFIGS = protocol.NORM_TABLE  # name -> (optimizer, batch size, lr, paper epochs)
SGD_CONFIGS = [c for c in CONFIGS if c.startswith("SGD")]
POST_NORM = {"SGD BS64": 44.9, "SGD BS1024": 44.1, "SGD BS1024 lr 0.1": 44.7, "SGD BS1024 480 epochs": 44.9,
             "Adam BS64": 258.0}
POST_COS = {"SGD BS64": (0.988, 0.993, 0.928), "SGD BS1024": (0.998, 0.998, 0.978),
            "SGD BS1024 lr 0.1": (0.991, 0.994, 0.936), "SGD BS1024 480 epochs": (0.989, 0.993, 0.930),
            "Adam BS64": (0.124, 0.359, 0.153)}

# Measured at quick scale (8000 images, 6 / 96 epochs), 3 seeds, 90% t intervals.
KNOWN = {
    ("quick", "layer2-Adam BS64-x255"):
        "contradicted: Adam's cosines [0.421 0.394 0.350]: layer 1 keeps more of its init than layer 2 "
        "(cos2 - max(cos1, cos3) = -0.026 [-0.032, -0.021]); with standard inputs layer 2 is highest "
        "[0.407 0.437 0.360] (supported)",
}


runs = protocol.table_runs
runs_here = protocol.table_runs_at
required = protocol.table_required


def _skip_if_absent(ctx, name, scaling):
    if not runs_here(ctx.scale, name, scaling):
        pytest.skip("the 480-epoch arm with standard inputs runs at paper scale only (quick CI budget)")


def cosines(recs):
    """[seed][layer] final cosine with the initial weights."""
    return np.asarray([r["history"]["cos"][-1] for r in recs], float)


def draw(ctx, scaling):
    names = [n for n in CONFIGS if runs_here(ctx.scale, n, scaling)
             and ctx.available(runs(ctx.scale, ctx.seeds, n, scaling))]
    fig, axes = plots.figure(2, 1, size=(6.0, 3.8))
    for i, n in enumerate(names):
        c = cosines(ctx.records(runs(ctx.scale, ctx.seeds, n, scaling)))
        for layer in range(3):
            x = i + (layer - 1) * 0.25
            axes[0].bar(x, c[:, layer].mean(), width=0.24, color=("tab:blue", "tab:green", "tab:red")[layer],
                        label=f"layer {layer + 1}" if i == 0 else None)
            axes[0].plot([x], [POST_COS[n][layer]], "k_", markersize=10, label="the post" if i == layer == 0 else None)
    axes[0].set_xticks(range(len(names)), [n.replace(" ", "\n", 2) for n in names], fontsize=7)
    axes[0].set(ylabel="cos(final, initial weights)", title="bars: ours; dashes: the post")
    axes[0].legend(fontsize=7)
    for i, n in enumerate(names):
        recs = ctx.records(runs(ctx.scale, ctx.seeds, n, scaling))
        r = [rec["history"]["w_norm"][-1] / rec["history"]["w_norm"][0] for rec in recs]
        axes[1].bar(i, np.mean(r), color="tab:gray")
        axes[1].plot([i], [POST_NORM[n] / 43.95], "k_", markersize=12)
    axes[1].set_yscale("log")
    axes[1].set_xticks(range(len(names)), [n.replace(" ", "\n", 2) for n in names], fontsize=7)
    axes[1].set(ylabel="|W final| / |W init|", title="bars: ours; dashes: the post's norm / 43.95")
    fig.suptitle(f"F12: cosines per layer and norm ratio ({scaling} inputs, {ctx.scale.name} scale, "
                 f"mean over seeds)")
    return plots.save(fig, ctx.report_dir, f"f12_cosines_norms_{scaling}")



@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("name", SGD_CONFIGS)
def test_sgd_norm_stays_on_initial_sphere(ctx, record, judge, name, scaling):
    _skip_if_absent(ctx, name, scaling)
    recs = ctx.records(runs(ctx.scale, ctx.seeds, name, scaling))
    rel = [r["history"]["w_norm"][-1] / r["history"]["w_norm"][0] - 1 for r in recs]
    m, ci = verdicts.mean_ci(rel)
    v = verdicts.within(m, ci, 0.0, NORM_MARGIN, f"{len(rel)} seeds",
                        f"|W_final|/|W_init| - 1 within +-{NORM_MARGIN:g}")
    init = np.mean([r["history"]["w_norm"][0] for r in recs])
    fin = np.mean([r["history"]["w_norm"][-1] for r in recs])
    record(finding="F12", reading=f"{name}: final weight norm within 5% of the initial{scaling_label(scaling)}",
           verdict=v,
           post=f"{POST_NORM[name]:g} (init ~44, Glorot 43.95)", ours=f"{fin:.3f} from {init:.3f} ({m:+.2%})",
           protocol={"config": name, "scaling": scaling, "epochs": recs[0]["config"]["phases"][0]["epochs"]},
           figures=[draw(ctx, scaling)])
    judge(f"norm-{name}-{scaling}", v)


@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_layer_cosines(ctx, record, judge, name, scaling):
    _skip_if_absent(ctx, name, scaling)
    c = cosines(ctx.records(runs(ctx.scale, ctx.seeds, name, scaling)))
    if name.startswith("SGD"):
        m, ci = verdicts.mean_ci(c.min(1))
        v = verdicts.greater(m, ci, SGD_COS_MIN, f"{len(c)} seeds", f"min over layers of cos > {SGD_COS_MIN:g}")
        reading = f"{name}: every layer's cosine with its init stays high"
    else:
        m, ci = verdicts.mean_ci(c.max(1))
        v = verdicts.less(m, ci, ADAM_COS_MAX, f"{len(c)} seeds", f"max over layers of cos < {ADAM_COS_MAX:g}")
        reading = f"{name}: every layer's cosine with its init is low"
    ours = "[" + " ".join(f"{x:.3f}" for x in c.mean(0)) + "]"
    record(finding="F12", reading=reading + scaling_label(scaling), verdict=v,
           post="[" + " ".join(f"{x:.3f}" for x in POST_COS[name]) + "]", ours=ours, figures=[draw(ctx, scaling)])
    judge(f"cos-{name}-{scaling}", v)


@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_second_layer_changes_least(ctx, record, judge, name, scaling):
    _skip_if_absent(ctx, name, scaling)
    c = cosines(ctx.records(runs(ctx.scale, ctx.seeds, name, scaling)))
    gap = c[:, 1] - np.maximum(c[:, 0], c[:, 2])
    m, ci = verdicts.mean_ci(gap)
    v = verdicts.greater(m, ci, 0.0, f"{len(c)} seeds", "cos(layer 2) - max(cos(layer 1), cos(layer 3)) > 0")
    record(finding="F12", reading=f"{name}: the second layer moves least (highest cosine){scaling_label(scaling)}",
           verdict=v, post="[" + " ".join(f"{x:.3f}" for x in POST_COS[name]) + "]",
           ours="[" + " ".join(f"{x:.4f}" for x in c.mean(0)) + "]")
    judge(f"layer2-{name}-{scaling}", v)
