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
from harness.findings import Finding

HOFFER_2017 = "Hoffer, Hubara & Soudry 2017, Train longer, generalize better, arXiv:1705.08741"
KUNIN_2021 = "Kunin et al. 2021, Rethinking the limiting dynamics of SGD, arXiv:2107.09133"
KESKAR_2017 = ("Keskar et al. 2017, On Large-Batch Training for Deep Learning: Generalization Gap and Sharp Minima, "
               "arXiv:1609.04836")
JASTRZEBSKI_2020 = ("Jastrzebski et al. 2020, The Break-Even Point on Optimization Trajectories of Deep Neural "
                    "Networks, arXiv:2002.09572")
COHEN_2021 = ("Cohen et al. 2021, Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability, "
              "arXiv:2103.00065")
SMITH_2018 = ("Smith, Kindermans, Ying & Le 2018, Don't Decay the Learning Rate, Increase the Batch Size, "
              "arXiv:1711.00489")
SMITH_LE_2018 = ("Smith & Le 2018, A Bayesian Perspective on Generalization and Stochastic Gradient Descent, "
                 "arXiv:1710.06451")

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

LITERATURE = {f.id: f for f in (L3, L4, L5)}
