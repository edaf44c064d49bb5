"""The post's findings and numbers, in one place (Kevin Shen, "Effect of batch
size on training dynamics", Mini Distill, 2018; ../shared/CLAIMS.md).

Every claim module, the fidelity table and the report read them from here:
the finding paraphrased, the section of the post that makes it, the numbers it
gives, and the finding's primary readings.

Primary readings: the reading ids (test names) that test the post's claim
under the post's protocol, and alone decide the finding's verdict
(harness/findings.py: all supported -> supported; Holm at family-wise 5%
rejects any -> contradicted; else inconclusive). Declared 2026-12-01, before
any multi-seed paper-scale result exists. Known when they were declared: the
quick-scale verdicts (3 seeds, reports/reference-quick/) and the one-seed
paper-scale point estimates (reports/reference-paper-1seed/). The choices:
- input scaling: mean/std ("standard"), which meets 35 of the post's 39
  numbers at paper scale where x/255 meets 16; x/255 readings are secondary
  (protocol sensitivity);
- the gradient experiment (F4-F7): the post's literal protocol, the vector
  sum of the per-step batch-mean gradients ("sum"); the per-sample mean and
  the drop-the-remainder variants are secondary readings; F7's literal
  reading is the count of values beyond one fixed value (not normalised);
- where the post states a number as the finding (F9's distances, F12's
  norms and cosines) every configuration it reports is primary.
Revised the same day (issue 13), still before any multi-seed paper-scale
result: F3 adds each switched schedule against the un-switched BS1024 control
(the post says a switch reaches *better* accuracy than staying put); F9's lr
0.1 accuracy reading is F2's (one comparison, one margin), shown in F9's
section as related; F1's section shows F9's equal-steps accuracy beside the
post's word "asymptotic".
Added 2026-12-01 (issue 13), before any paper-scale gradient result: the size
of F5's and F6's effects (F5: CV at BS1024 at least twice BS2's; F6: the
normalised spread at least doubles from BS2 to BS1024, and at BS1024 exceeds
half the mean) and F7's "centres alike", each under the literal "sum"
reading, early and late. The quick-scale direction readings were known then.
"""
from harness.findings import Finding, Related

# The post gives test accuracies in whole percents (98%, ~96%, 95%, 99%). Where it
# says an arm reaches the same accuracy as another (F2's lr 0.1, F3's switched
# runs, F9's 16x epochs: "98%" again), the claim is made at that precision; the
# one margin every such reading uses is half its unit. (Two values both printed
# as 98% can differ by up to 1 point; F2 and F3 used 0.5 before any run, and a
# margin is never widened, so the stricter reading of the rounding stands.)
SAME_ACCURACY_MARGIN = 0.5  # points: half the unit of the post's whole-percent accuracies

SECTIONS = {
    "batch": "Effect of batch size", "lr": "Effect of Learning Rate",
    "recover": "the section on switching away from a large batch (its fourth)",
    "gradients": "Hypothesis: gradient competition", "far": "Getting Far Enough", "adam": "ADAM vs SGD",
}
SGD_NORM_CONFIGS = ("SGD BS64", "SGD BS1024", "SGD BS1024 lr 0.1", "SGD BS1024 480 epochs")

F1 = Finding(
    "F1", "A larger batch ends training at a lower (asymptotic) test accuracy, and train accuracy too",
    SECTIONS["batch"], ("test_larger_batch_lowers_accuracy[test-standard]",),
    {"BS64 train": 100.0, "BS64 test": 98.0, "BS1024 test": 96.0, "BS2 test": 99.0},
    related=(Related("F9", "test_large_batch_reaches_bs64[16x epochs-accuracy-standard]",
                     "The post's word is *asymptotic* accuracy; F1's readings compare equal epochs (30), where "
                     "BS1024 takes 1/16 of BS64's steps. This F9 reading gives BS1024 16x the epochs (as many "
                     "steps as BS64) and asks whether it then reaches BS64's accuracy: if it does, what F1 "
                     "measures at equal epochs is a shortfall of steps rather than a lower asymptote."),))
F2 = Finding(
    "F2", "A tenfold learning rate wins back the test accuracy a large batch loses",
    SECTIONS["lr"], ("test_larger_lr_recovers_accuracy[recovers-standard]",
                     "test_larger_lr_recovers_accuracy[improves-standard]"),
    {"BS64 lr0.01 test": 98.0, "BS1024 lr0.01 test": 96.0, "BS1024 lr0.1 test": 98.0})
F3 = Finding(
    "F3", "Starting with a large batch does not trap the model: switching to a small batch or a larger "
          "learning rate later still reaches the small-batch accuracy",
    SECTIONS["recover"], tuple(f"test_switch_recovers[{s}-{against}-standard]" for s in (
        "1024x1 then 64x30", "1024x30 then 64x30", "1024 lr0.01x30 then lr0.1x30")
        for against in ("vs-reference", "vs-control")),
    {"switched test": 98.0})
F4 = Finding(
    "F4", "For the same samples seen, larger batches take larger steps: the mean norm of the summed "
          "last-layer gradient grows like sqrt(batch size)",
    SECTIONS["gradients"], ("test_norm_increases_with_batch_size[sum-early]",
                            "test_norm_increases_with_batch_size[sum-late]",
                            "test_norm_grows_like_sqrt_batch_size[sum-early]",
                            "test_norm_grows_like_sqrt_batch_size[sum-late]"),
    {"exponent": 0.5, "squared-norm exponent": 1.0})
F5 = Finding(
    "F5", "At equal mean step size, larger batches vary more in how far they move",
    SECTIONS["gradients"], tuple(f"{t}[sum-{g}]" for t in ("test_cv_grows_with_batch_size", "test_cv_at_least_doubles")
                                 for g in ("early", "late")))
F6 = Finding(
    "F6", "Large batches make both very large and very small updates, depending on the samples drawn; "
          "small batches make updates of about one size",
    SECTIONS["gradients"], tuple(f"{t}[sum-{g}]" for t in ("test_normalised_spread_grows_with_batch_size",
                                                           "test_spread_at_least_doubles",
                                                           "test_large_batch_updates_very_large_and_very_small")
                                 for g in ("early", "late")))
F7 = Finding(
    "F7", "The individual gradient values have a heavier tail at larger batch sizes",
    SECTIONS["gradients"], tuple(f"{t}[sum-{g}]" for t in ("test_more_large_values_at_larger_batch",
                                                           "test_centres_alike_across_batch_sizes")
                                 for g in ("early", "late")),
    {"count beyond the highlighted value, BS1024": 1e5, "same, BS2": 1e2})
F8 = Finding(
    "F8", "Better solutions lie far from the initial weights, and in a fixed number of epochs a large "
          "batch (batch-averaged loss) takes too few steps to reach them",
    # equal train loss replaced the grid's Spearman rho (issue 13): progress alone makes rho 1
    SECTIONS["far"], ("test_small_batch_travels_farther[0.01-standard]",
                      "test_farther_is_better_at_equal_loss[standard]"),
    {"W": 6.71, "B": 0.11, "A": 98.0, "best distance": 6.0})
F9 = Finding(
    "F9", "A tenfold learning rate, or 16x the epochs, lets a large batch reach the far, better solutions",
    SECTIONS["far"], tuple(f"test_large_batch_reaches_bs64[{arm}-{q}-standard]" for arm, q in (
        ("lr 0.1", "distance"), ("16x epochs", "distance"), ("16x epochs", "accuracy"))),
    {"16x epochs W": 6.63, "16x epochs B": 0.11, "16x epochs A": 98.0, "lr 0.1 A": 98.0},
    related=(Related("F2", "test_larger_lr_recovers_accuracy[recovers-standard]",
                     "The lr 0.1 arm's accuracy against BS64's is one comparison on the same runs, owned and "
                     "judged by F2 with the one margin (claims/post.py SAME_ACCURACY_MARGIN); F9 judges that "
                     "arm's distance."),))
F10 = Finding(
    "F10", "In a fixed number of steps SGD travels only so far from its initial weights, whatever the batch size",
    SECTIONS["far"], ("test_distance_monotone_and_concave[64-standard]",
                      "test_distance_monotone_and_concave[1024-standard]",
                      "test_equal_steps_equal_distance[standard]"),
    {"BS64 W": 6.71, "BS1024 480 epochs W": 6.63})
F11 = Finding(
    "F11", "Adam ends much farther from its initial weights than SGD, with much larger weights, and tests worse",
    SECTIONS["adam"], ("test_adam_much_larger[W-standard]", "test_adam_much_larger[norm-standard]",
                       "test_adam_tests_worse[standard]"),
    {"W": (254.3, 6.71), "B": (18.3, 0.11), "norm": (258.0, 44.9), "A": (95.0, 98.0)})
F12 = Finding(
    "F12", "With SGD the weights stay near the sphere of their initial radius and keep their direction; "
           "Adam ignores the initialisation",
    SECTIONS["adam"], tuple(f"test_sgd_norm_stays_on_initial_sphere[{c}-standard]" for c in SGD_NORM_CONFIGS)
    # the radial fraction (issue 13): the norm alone follows from the distance (F8)
    + tuple(f"test_sgd_moves_along_the_sphere[{c}-standard]" for c in SGD_NORM_CONFIGS)
    + tuple(f"test_layer_cosines[{c}-standard]" for c in SGD_NORM_CONFIGS + ("Adam BS64",)),
    {"norm": {"SGD BS64": 44.9, "SGD BS1024": 44.1, "SGD BS1024 lr 0.1": 44.7, "SGD BS1024 480 epochs": 44.9,
              "Adam BS64": 258.0},
     "bias norm": {"SGD BS64": 0.11, "SGD BS1024": 0.07, "SGD BS1024 lr 0.1": 0.10, "SGD BS1024 480 epochs": 0.11,
                   "Adam BS64": 18.3},
     "cos": {"SGD BS64": (0.988, 0.993, 0.928), "SGD BS1024": (0.998, 0.998, 0.978),
             "SGD BS1024 lr 0.1": (0.991, 0.994, 0.936), "SGD BS1024 480 epochs": (0.989, 0.993, 0.930),
             "Adam BS64": (0.124, 0.359, 0.153)},
     "glorot init norm": 43.95,
     "init norm": 44.0,  # the post's own word for the initial weights' magnitude: "about 44" (two digits)
     "A": {"SGD BS1024": 95.0}})  # test accuracy in the norms table (F1's text gives ~96)

FINDINGS = {f.id: f for f in (F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12)}

# Readings built on the post's absolute MNIST numbers rather than on a relation
# between runs: on another data set (--dataset fashion-mnist) they do not apply,
# and are skipped at collection with ABSOLUTE_MNIST_REASON (claims/conftest.py).
# An entry is a module (every reading in it) or "module::test function".
# - the fidelity table: the post's accuracies, distances, norms and cosines;
# - F9's lr 0.1 distance, judged against the post's "~6";
# - F12's cosine thresholds (0.9 for SGD, 0.5 for Adam), argued from the
#   post's MNIST cosines (smallest SGD 0.928, largest Adam 0.359).
# Every other rule compares runs with each other (orders, ratios, margins
# relative to a reference run) and runs on any data set.
ABSOLUTE_MNIST = ("test_fidelity.py", "test_f12_sphere_and_cosines.py::test_layer_cosines",
                  "test_f9_reach_far_solutions.py::test_large_batch_reaches_bs64[lr 0.1-distance")
ABSOLUTE_MNIST_REASON = "not applicable on this data set: built on the post's absolute MNIST numbers"
