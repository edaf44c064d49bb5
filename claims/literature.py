"""Claims from the batch-size literature, judged on the post's MLP and
protocol: the report's "Beyond the post" part (../shared/LITERATURE.md).

Each is a Finding like the post's (harness/findings.py): the claim
paraphrased, the paper that makes it (in `section`), the numbers it gives and
its primary readings, declared here before the module that judges it first
ran. Ids L1..L5; the report lists them apart from the post's F1..F12, one row
each, and combines their primary readings by the same rule (all supported ->
supported; Holm at family-wise 5% rejects any -> contradicted).

L3's primary readings (declared 2026-12-01, before any L3 run was trained;
one arm's value, BS1024 at lr 0.01, had been seen while harness/sharpness.py
was being checked): the two comparisons the claim makes, standard inputs:
the large batch is sharper than the small one at equal lr, and the gap closes
when lr is scaled with the batch (BS1024 at 0.16 = 0.01 x 1024/64 against
BS64 at 0.01).

L4's primary readings (declared 2026-12-01, before any L4 run): test accuracy
of the growing-batch schedule against the decaying-lr one at the end of
training and at the end of the middle phase (the paper's claim is about the
whole test curve, not only its end), standard inputs. Their rule gained an
assay-sensitivity condition after the first quick run showed it could not
fail there (the module's docstring says how). The update count is fixed by
the schedule (a secondary reading reports it).

L5's primary readings: every SGD configuration whose distance curve the suite
records (the F8 grid, BS 64/256/1024 at lr 0.01 and 0.1 for 30 paper epochs,
and F9/F10's BS1024 at lr 0.01 for 480 paper epochs), mean/std inputs. The
paper states the law for training at a constant learning rate, before any
decay; every run here keeps its learning rate, so every run is such a phase
and none is left out.
"""
import math

from harness.findings import Finding

HOFFER_2017 = "Hoffer, Hubara & Soudry 2017, Train longer, generalize better, arXiv:1705.08741"
KUNIN_2021 = "Kunin et al. 2021, Rethinking the limiting dynamics of SGD, arXiv:2107.09133"
KESKAR_2017 = ("Keskar et al. 2017, On Large-Batch Training for Deep Learning: Generalization Gap and Sharp Minima, "
               "arXiv:1609.04836")
JASTRZEBSKI_2020 = ("Jastrzebski et al. 2020, The Break-Even Point on Optimization Trajectories of Deep Neural "
                    "Networks, arXiv:2002.09572")
COHEN_2021 = ("Cohen et al. 2021, Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability, "
              "arXiv:2103.00065")
SMITH_2018 = ("Smith, Kindermans, Ying & Le 2018 (on raising the batch size in place of lr decay), "
              "arXiv:1711.00489")
SMITH_LE_2018 = ("Smith & Le 2018, A Bayesian Perspective on Generalization and Stochastic Gradient Descent, "
                 "arXiv:1710.06451")
MCCANDLISH_2018 = "McCandlish, Kaplan, Amodei et al. 2018, An Empirical Model of Large-Batch Training, arXiv:1812.06162"
SHALLUE_2019 = ("Shallue, Lee, Antognini et al. 2019, Measuring the Effects of Data Parallelism on Neural Network "
                "Training, arXiv:1811.03600")
GOYAL_2017 = "Goyal, Dollar, Girshick et al. 2017, Accurate, Large Minibatch SGD, arXiv:1706.02677"

# L5's runs: reading label -> (batch size, lr, paper epochs)
L5_CONFIGS = {f"BS{bs} lr {lr:g}": (bs, lr, 30) for bs in (64, 256, 1024) for lr in (0.01, 0.1)} | {
    "BS1024 lr 0.01 x480 epochs": (1024, 0.01, 480)}

L5 = Finding(
    "L5", "At a constant learning rate the distance of the weights from their initialisation grows like the "
          "logarithm of the number of steps (ultra-slow diffusion), not like a power of it",
    f"{HOFFER_2017} (a power law instead: {KUNIN_2021})",
    tuple(f"test_distance_grows_like_log_steps[{c}-standard]" for c in L5_CONFIGS))

L3 = Finding(
    "L3", "Large batches end at sharper minima (a larger top Hessian eigenvalue of the training loss) than small "
          "ones at the same learning rate; the sharpness follows lr/B, so scaling lr with the batch closes the gap",
    f"{KESKAR_2017}; {JASTRZEBSKI_2020} (context, edge of stability: {COHEN_2021})",
    ("test_large_batch_is_sharper[standard]", "test_sharpness_follows_lr_over_batch[BS1024 lr 0.16-standard]"))

L4 = Finding(
    "L4", "Growing the batch size instead of decaying the learning rate, at equal noise scale lr N/B, gives the "
          "same test accuracy over the same epochs with fewer parameter updates",
    f"{SMITH_2018}; {SMITH_LE_2018}",
    ("test_growing_batch_matches_decay[end-standard]", "test_growing_batch_matches_decay[phase 2-standard]"))

# -- L1 and L2: the scaling rules and the lr grid they share -------------------------
# The post's base: BS64 at SGD lr 0.01. A rule names the lr at batch size B;
# L1's lr grid holds every rule's lr at the batch sizes both claims use, so a
# run one claim declares is the other's too (one cache entry).
BASE_BS, BASE_LR = 64, 0.01
RULES = ("constant", "sqrt", "linear", "linear+warmup")
# Warmup (Goyal et al. 2017: over the first 5 of 90 epochs the lr rises linearly,
# iteration by iteration, from the base lr to the scaled one). Here runs are
# phases of whole epochs: the first WARMUP_EPOCHS of the post's 30 (2 of 15 at
# quick scale) are WARMUP_PHASES constant phases at the ramp's midpoints
# (a quarter and three quarters of the way up), a staircase whose mean lr over
# the warmup equals the linear ramp's; then the scaled lr to the end.
WARMUP_EPOCHS, WARMUP_PHASES = 4, 2


def _lr(x: float) -> float:
    """An lr rounded to 10 digits, so that 0.01 * 4 and 0.04 key one run."""
    return round(x, 10)


def scaled_lr(rule: str, bs: int) -> float:
    """The lr a rule gives at batch size bs, from BASE_LR at BASE_BS."""
    k = bs / BASE_BS
    factor = {"constant": 1.0, "sqrt": math.sqrt(k), "linear": k, "linear+warmup": k}[rule]
    return _lr(BASE_LR * factor)


def rule_phases(rule: str, bs: int, epochs: int = 30) -> list[tuple[int, int, float]]:
    """[(paper epochs, batch size, lr), ...] of a rule's run (protocol.schedule's phases)."""
    lr = scaled_lr(rule, bs)
    if rule != "linear+warmup" or lr == BASE_LR:
        return [(epochs, bs, lr)]
    step = WARMUP_EPOCHS // WARMUP_PHASES
    ramp = [(step, bs, _lr(BASE_LR + (lr - BASE_LR) * (i + 0.5) / WARMUP_PHASES)) for i in range(WARMUP_PHASES)]
    return ramp + [(epochs - WARMUP_EPOCHS, bs, lr)]


# L2's batch sizes beyond the base: the post's two (F1); at paper scale also 4096 (64x, beyond the 32x that
# Goyal et al. scaled ImageNet by), left out at quick scale, where 4096 is half of its 8000 training images.
L2_BATCH_SIZES = (256, 1024)
L2_PAPER_ONLY = (4096,)

# L1's primary readings (declared 2026-12-01, before the judged runs; a one-seed pilot of loss curves fixed
# the target and run lengths, claims/test_l1_critical_batch_size.py): the two regimes of steps-to-target
# against batch size (Shallue et al.), B_crit within 10x of B_simple at the target loss (McCandlish et al.),
# and the noise scale's growth as the loss falls, at the F4 gradient experiment's start points.
L1 = Finding(
    "L1", "With the lr tuned per batch size, the steps to a training-loss target fall like 1/B at small "
          "batches, then level off; the bend (the critical batch size) lies near the gradient noise scale "
          "B_simple = tr(Sigma)/|G|^2, which grows as the loss falls",
    f"{MCCANDLISH_2018}; {SHALLUE_2019}",
    ("test_steps_to_target_scaling[perfect at small batches]",
     "test_steps_to_target_scaling[diminishing at large batches]",
     "test_critical_batch_near_noise_scale",
     "test_noise_scale_grows_as_loss_falls"))

# L2's primary readings (declared 2026-12-01, before the judged runs): linear scaling with warmup keeps
# BS64's test accuracy at the post's 30 epochs, at each batch size the quick and paper scales share (256:
# 4x, 1024: 16x, within the 32x Goyal et al. report holding). The square-root rule (Hoffer et al., whose
# claim also needs more steps), linear scaling without warmup, the constant lr (F1's runs) and BS4096
# are secondary.
L2 = Finding(
    "L2", "Scaling the lr linearly with the batch size, after a gradual warmup, keeps the small-batch test "
          "accuracy at a fixed epoch budget, up to a batch size beyond which it degrades",
    f"{GOYAL_2017} (square-root scaling: {HOFFER_2017})",
    tuple(f"test_scaling_rule_keeps_accuracy[linear+warmup-BS{bs}]" for bs in L2_BATCH_SIZES))

LITERATURE = {f.id: f for f in (L1, L2, L3, L4, L5)}
