"""Fidelity: every number the post gives for F8-F12, and its F1-F3
accuracies, beside ours.

These rows report quantitative agreement; they do not decide any finding's
verdict (the F1..F12 modules do, by the direction of each effect). A row is
"met" when our mean over seeds lies within the tolerance of the post's
number; the 90% t interval over seeds is shown with it.

Tolerances (fixed before the runs):
- accuracies: within 1 point (the post rounds them to whole percent);
- weight distances W: within 10% of the post's value;
- weight norms |W|: within 2% (the init alone contributes ~44 of the ~45);
- bias distances and norms (B; equal, the biases start at zero): within 10%,
  since the post gives two decimals (0.07 .. 0.11), so 2% would be below its
  own rounding;
- per-layer cosines: within 0.01.

The post's numbers come from claims/post.py (post.F1, F2, F8, F9, F11 and
F12's numbers): none is typed here.

Protocol: the runs the claims share, the rows of protocol.NORM_TABLE (F1's
BS64 / BS1024 at lr 0.01, F8's BS1024 lr 0.1, F9's 480-epoch BS1024, F11's
Adam), under mean/std inputs ("standard", the post's protocol, the default)
and, with --scaling x255|both, x/255. At quick scale the 480-epoch arm runs
only with the default scaling (its rows are left out of the x/255 table:
protocol.table_rows_here declares only the rows that run here), and the quick
protocol (8000 images, half the epochs) is not expected to reproduce the
post's numbers: its
rows show how far a quick run is from them. `test_which_scaling_matches`
(with --scaling both)
compares the two scalings on the rows both have: how many are met and the mean
absolute error in units of the tolerance; the one with the smaller mean error
matches the post better.
"""
import math

import numpy as np
import pytest

from claims import post
from harness import protocol, verdicts
from harness.claim import uses
from harness.trainer import final

SCALINGS = protocol.INPUT_SCALINGS
TOL = {"acc": (1.0, "abs", "1 point"), "dist": (0.10, "rel", "10%"), "norm": (0.02, "rel", "2%"),
       "bias": (0.10, "rel", "10%"), "cos": (0.01, "abs", "0.01")}
F1, F2, F8, F9, F11, F12 = (f.numbers for f in (post.F1, post.F2, post.F8, post.F9, post.F11, post.F12))
NORM_ROWS = {"SGD BS64": "BS64", "SGD BS1024": "BS1024", "SGD BS1024 lr 0.1": "BS1024 lr 0.1",
             "SGD BS1024 480 epochs": "BS1024 x480 epochs", "Adam BS64": "Adam BS64"}  # config -> its row label


def wba(finding, label, config, w, b, a):
    """The rows of one run's W / B / A, as the post's F8-F11 give them."""
    return [(finding, f"W, {label}", config, "w_dist", w, "dist"),
            (finding, f"B, {label}", config, "b_dist", b, "bias"),
            (finding, f"A, {label}", config, "test_acc", a, "acc")]


def norm_rows(config, label):
    """The rows of one run's |W| and |B| (and A, where the post's norms table gives it), as F12 gives them."""
    out = [("F12", f"|W|, {label}", config, "w_norm", F12["norm"][config], "norm"),
           ("F12", f"|B|, {label}", config, "b_norm", F12["bias norm"][config], "bias")]
    if config in F12["A"]:
        out.append(("F12", f"A, {label} (norms table)", config, "test_acc", F12["A"][config], "acc"))
    return out


# (finding, quantity, config, measure, the post's number, tolerance kind)
ROWS = [
    ("F1", "train accuracy, BS64 lr 0.01", "SGD BS64", "train_acc", F1["BS64 train"], "acc"),
    ("F1", "test accuracy, BS64 lr 0.01", "SGD BS64", "test_acc", F1["BS64 test"], "acc"),
    ("F1", "test accuracy, BS1024 lr 0.01", "SGD BS1024", "test_acc", F1["BS1024 test"], "acc"),
    ("F2", "test accuracy, BS1024 lr 0.1", "SGD BS1024 lr 0.1", "test_acc", F2["BS1024 lr0.1 test"], "acc"),
    *wba("F8", "BS64 lr 0.01", "SGD BS64", F8["W"], F8["B"], F8["A"]),
    *wba("F9", "BS1024 lr 0.01 x480 epochs", "SGD BS1024 480 epochs", *(F9[f"16x epochs {k}"] for k in "WBA")),
    *wba("F11", "Adam BS64 lr 0.01", "Adam BS64", *(F11[k][0] for k in "WBA")),
    *[row for name, label in NORM_ROWS.items() for row in norm_rows(name, label)],
    *[("F12", f"cos layer {i + 1}, {name}", name, f"cos{i}", cos[i], "cos")
      for name, cos in F12["cos"].items() for i in range(3)],
]

def both_scalings(scale, seeds):
    return {sc: protocol.table_rows_here(scale, seeds, sc) for sc in SCALINGS}


def value(rec, measure):
    if measure.startswith("cos"):
        return rec["history"]["cos"][-1][int(measure[3:])]
    v = final(rec, measure)
    return 100 * v if measure.endswith("_acc") else v


def rows(table):
    """One dict per row whose config the table (name -> records) holds."""
    out = []
    for finding, quantity, name, measure, post_value, kind in ROWS:
        if name not in table:  # not run at this scale with this scaling: no row
            continue
        mean, ci = verdicts.mean_ci([value(r, measure) for r in table[name]])
        tol, how, text = TOL[kind]
        allowed = tol * abs(post_value) if how == "rel" else tol
        out.append({"finding": finding, "quantity": quantity, "post": post_value, "ours": float(mean),
                    "ci": (float(ci[0]), float(ci[1])), "tolerance": text,
                    "met": bool(abs(mean - post_value) <= allowed), "error": float(abs(mean - post_value) / allowed)})
    return out


@uses(protocol.table_rows_here, partial=True)
@pytest.mark.parametrize("scaling", SCALINGS)
def test_fidelity_rows(ctx, runs, record, scaling):
    rs = rows(runs)
    label = f" [{scaling} inputs]"
    for r in rs:
        record("fidelity", finding=r["finding"], quantity=r["quantity"] + label, post=r["post"], ours=r["ours"],
               ci=r["ci"], tolerance=r["tolerance"], met=r["met"],
               note=f"{ctx.scale.name} scale, {len(ctx.seeds)} seeds; |ours - post| = {r['error']:.2f} tolerances")
    bad = [r["quantity"] for r in rs if not math.isfinite(r["ours"])]
    assert not bad, f"no finite value for {bad} (a diverged or empty run)"


@uses(both_scalings, partial=True)
@pytest.mark.parametrize("scaling", ["both"])  # runs with --scaling both only
def test_which_scaling_matches(ctx, runs, record, scaling):
    by = {sc: {r["quantity"]: r for r in rows(runs[sc])} for sc in SCALINGS}
    common = [q for q in by[SCALINGS[0]] if all(q in by[sc] for sc in SCALINGS)]
    lines = ["| quantity | the post | " + " | ".join(f"{sc}: ours (errors in tolerances)" for sc in SCALINGS) + " |",
             "|---|---|" + "---|" * len(SCALINGS)]
    for q in common:
        r0 = by[SCALINGS[0]][q]
        lines.append(f"| {r0['finding']} {q} | {r0['post']:g} | " + " | ".join(
            f"{by[sc][q]['ours']:.4g} ({by[sc][q]['error']:.2f}{'' if by[sc][q]['met'] else ', not met'})"
            for sc in SCALINGS) + " |")
    summary = {sc: (sum(by[sc][q]["met"] for q in common), float(np.mean([by[sc][q]["error"] for q in common])),
                    float(np.median([by[sc][q]["error"] for q in common]))) for sc in SCALINGS}
    best = min(SCALINGS, key=lambda sc: summary[sc][1])
    note = (f"On the {len(common)} rows both scalings run at {ctx.scale.name} scale: "
            + "; ".join(f"{sc} meets {m}, mean error {e:.2f} tolerances (median {md:.2f})"
                        for sc, (m, e, md) in summary.items())
            + f". Closer to the post: {best}.")
    record(kind="table", finding="F8-F12", title=f"Which input scaling matches the post's numbers "
                                                  f"({ctx.scale.name} scale, {len(ctx.seeds)} seeds)",
           text="\n".join(lines), note=note)
    assert common, "no fidelity row common to both scalings"
