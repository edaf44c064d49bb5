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
"""
from harness.findings import Finding

SECTIONS = {
    "batch": "Effect of batch size", "lr": "Effect of Learning Rate",
    "recover": "the section on switching away from a large batch (its fourth)",
    "gradients": "Hypothesis: gradient competition", "far": "Getting Far Enough", "adam": "ADAM vs SGD",
}
SGD_NORM_CONFIGS = ("SGD BS64", "SGD BS1024", "SGD BS1024 lr 0.1", "SGD BS1024 480 epochs")

F1 = Finding(
    "F1", "A larger batch ends training at a lower (asymptotic) test accuracy, and train accuracy too",
    SECTIONS["batch"], ("test_larger_batch_lowers_accuracy[test-standard]",),
    {"BS64 train": 100.0, "BS64 test": 98.0, "BS1024 test": 96.0, "BS2 test": 99.0})
F2 = Finding(
    "F2", "A tenfold learning rate wins back the test accuracy a large batch loses",
    SECTIONS["lr"], ("test_larger_lr_recovers_accuracy[recovers-standard]",
                     "test_larger_lr_recovers_accuracy[improves-standard]"),
    {"BS64 lr0.01 test": 98.0, "BS1024 lr0.01 test": 96.0, "BS1024 lr0.1 test": 98.0})
F3 = Finding(
    "F3", "Starting with a large batch does not trap the model: switching to a small batch or a larger "
          "learning rate later still reaches the small-batch accuracy",
    SECTIONS["recover"], tuple(f"test_switch_recovers[{s}-vs-reference-standard]" for s in (
        "1024x1 then 64x30", "1024x30 then 64x30", "1024 lr0.01x30 then lr0.1x30")),
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
    SECTIONS["gradients"], ("test_cv_grows_with_batch_size[sum-early]", "test_cv_grows_with_batch_size[sum-late]"))
F6 = Finding(
    "F6", "Large batches make both very large and very small updates, depending on the samples drawn; "
          "small batches make updates of about one size",
    SECTIONS["gradients"], ("test_normalised_spread_grows_with_batch_size[sum-early]",
                            "test_normalised_spread_grows_with_batch_size[sum-late]"))
F7 = Finding(
    "F7", "The individual gradient values have a heavier tail at larger batch sizes",
    SECTIONS["gradients"], ("test_more_large_values_at_larger_batch[sum-early]",
                            "test_more_large_values_at_larger_batch[sum-late]"),
    {"count beyond the highlighted value, BS1024": 1e5, "same, BS2": 1e2})
F8 = Finding(
    "F8", "Better solutions lie far from the initial weights, and in a fixed number of epochs a large "
          "batch (batch-averaged loss) takes too few steps to reach them",
    SECTIONS["far"], ("test_small_batch_travels_farther[0.01-standard]",
                      "test_accuracy_rises_with_distance[standard]"),
    {"W": 6.71, "B": 0.11, "A": 98.0, "best distance": 6.0})
F9 = Finding(
    "F9", "A tenfold learning rate, or 16x the epochs, lets a large batch reach the far, better solutions",
    SECTIONS["far"], tuple(f"test_large_batch_reaches_bs64[{arm}-{q}-standard]"
                           for arm in ("lr 0.1", "16x epochs") for q in ("distance", "accuracy")),
    {"16x epochs W": 6.63, "16x epochs B": 0.11, "16x epochs A": 98.0, "lr 0.1 A": 98.0})
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
