"""Claims from the batch-size literature, judged on the post's MLP and
protocol: the report's "Beyond the post" part (../shared/LITERATURE.md).

Each is a Finding like the post's (harness/findings.py): the claim
paraphrased, the paper that makes it (in `section`), the numbers it gives and
its primary readings, declared here before the module that judges it first
ran. Ids L1..L5; the report lists them apart from the post's F1..F12, one row
each, and combines their primary readings by the same rule (all supported ->
supported; Holm at family-wise 5% rejects any -> contradicted).

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

# L5's runs: reading label -> (batch size, lr, paper epochs)
L5_CONFIGS = {f"BS{bs} lr {lr:g}": (bs, lr, 30) for bs in (64, 256, 1024) for lr in (0.01, 0.1)} | {
    "BS1024 lr 0.01 x480 epochs": (1024, 0.01, 480)}

L5 = Finding(
    "L5", "At a constant learning rate the distance of the weights from their initialisation grows like the "
          "logarithm of the number of steps (ultra-slow diffusion), not like a power of it",
    f"{HOFFER_2017} (a power law instead: {KUNIN_2021})",
    tuple(f"test_distance_grows_like_log_steps[{c}-standard]" for c in L5_CONFIGS))

LITERATURE = {f.id: f for f in (L5,)}
