"""Mutation tests: would the suite notice a harness that trains wrongly?

Each test patches one harness function for its own duration (pytest's
MonkeyPatch: the source files are untouched, and a fresh cache per arm keeps
mutated runs out of every other cache), really trains the runs a named check
of the suite declares, at the smallest scale where the *unmutated* harness
passes that check, and asserts two things in the same test: unmutated, the
check passes; mutated, it fails. A check is a claim reading or a fidelity
check that CI runs at the quick scale; it is called here as it is in CI (the
claim's own test function, its `reading` captured), on the runs its own
declaration asks for at the small scale.

| mutation (test-only patch) | caught by (runs in CI) | scale here |
|---|---|---|
| (a) ignore the lr: every SGD step at 0.01 (`engine.sgd_step`) | F2 `test_larger_lr_recovers_accuracy[improves-standard]` | ONE_EPOCH |
| (b) ignore the batch size: every epoch cut into batches of 64 (`trainer._epoch_batches`) | F1 `test_larger_batch_lowers_accuracy[test-standard]` | ONE_EPOCH |
| (c) run specs default to PyTorch's init (`protocol.RunConfig`) | fidelity `test_holds_at_every_scale[initial weight norm-standard]` and `[initial biases zero-standard]` | ONE_STEP |
| (d) x/255 inputs where mean/std is asked (`data.load`) | F12 `test_second_layer_changes_least[Adam BS64-standard]` (quick); at paper scale also the fidelity summary | OLD_QUICK |
| (e) the biases never updated (`engine.sgd_step`) | fidelity `test_holds_at_every_scale[biases trained-standard]` | ONE_STEP |
| (f) shuffle once, not every epoch (`trainer._epoch_batches`) | none: undetectable (measured, below) | - |

The scales: the smallest at which the unmutated harness passes the check.
ONE_STEP: 64 images, one epoch (one SGD step of BS64): enough for the initial
state and for biases to move. ONE_EPOCH: 1024 images, one epoch (BS64 takes
16 steps, BS1024 one): the smallest at which every batch size of F1 and F2
(up to 1024) is a real batch; at 512 images the checks pass too, but BS1024
and BS512 are then one batch. OLD_QUICK: 8000 images, 6 epochs (750 Adam steps
of BS64; the quick scale before the design study): Adam's second layer keeps
the most of its init only after several hundred steps; with 470 steps (2000
images, 15 epochs) one seed triple in four was inconclusive, with 750 each of
four triples was supported (seeds 0-2: +0.031 [0.022, 0.039]).

Measured here (seeds 0-2; effect [90% CI] of the check, unmutated -> mutated):
(a) BS1024 lr 0.1 - lr 0.01 test accuracy +23.7 [18.5, 28.9] points, supported
    -> 0 [-4.6, 4.6], inconclusive (the two arms are one run);
(b) BS64 - BS1024 test accuracy +51.0 [44.6, 57.5] points (65.3 / 30.1 /
    14.3%), supported -> 0 [-7.3, 7.3] (65.3% at every batch size), inconclusive;
(c) |W| at epoch 0 43.95 [43.90, 44.00], supported -> 26.19 [26.16, 26.22],
    contradicted; |B| at epoch 0 0 [0, 0], supported -> 0.882 [0.869, 0.894],
    contradicted;
(d) Adam's cos(layer 2) - max(cos(layer 1), cos(layer 3)) +0.031 [0.022,
    0.039], supported -> -0.026 [-0.037, -0.014], contradicted;
(e) B after one step 0.0029 [0.0016, 0.0042], supported -> 0 [0, 0],
    inconclusive.
Run with -s to see them printed.

Runtime, `-n 2` on the 2-core Intel Xeon it was written on, never quiet (a
long background job shared it): 76 s wall, 75 s of CPU, at a load of 4-5 (our
2 workers and 2-3 other processes); 354 s wall, 100 s of CPU, at a load of
12-14. (d) takes 61 s of the 76 (one worker) while the other worker runs the
rest in about 25 s: on 2 quiet cores, about a minute.

Why (f) is undetectable: the post does not say how it shuffles, and no number
the suite reads moves by more than half a seed-to-seed standard deviation when
the data are shuffled once instead of every epoch (`test_shuffling_once_is_
undetectable` measures it at the quick scale; set BSC_MEASURE_SHUFFLE=1).
"""
import inspect
import os
from functools import partial

import numpy as np
import pytest

from claims import test_f1_batch_size_accuracy as f1
from claims import test_f2_lr_recovers_accuracy as f2
from claims import test_f12_sphere_and_cosines as f12
from claims import test_fidelity as fid
from harness import claim, data, engine, expect, geometry, protocol, scales, trainer
from harness.context import Context
from harness.scales import Scale
from harness.trainer import RunConfig, final

SEEDS = (0, 1, 2)


def small(name, images, epoch_fraction, test_images=1000):
    """A scale of `images` training images and epoch_fraction of the post's epochs."""
    return Scale(name, images, test_images, min(images, test_images), epoch_fraction, seeds=len(SEEDS),
                 grad_trials=0)


ONE_STEP = small("one step", 64, 1 / 30, test_images=100)
ONE_EPOCH = small("one epoch of 1024", 1024, 1 / 30)
OLD_QUICK = small("old quick", 8000, 0.2)


# -- the mutations: each patches one harness function through a MonkeyPatch --------
def ignore_the_lr(mp):
    """(a) Every SGD step uses the post's default lr, 0.01, whatever the run asks."""
    step = engine.sgd_step
    mp.setattr(engine, "sgd_step", lambda params, x, y, lr: step(params, x, y, 0.01))


def ignore_the_batch_size(mp):
    """(b) Every epoch is cut into batches of 64, whatever the run asks."""
    batches = trainer._epoch_batches
    mp.setattr(trainer, "_epoch_batches", lambda n, bs, drop_last, gen, device: batches(n, 64, drop_last, gen, device))


def torch_init_by_default(mp):
    """(c) A run spec that names no init gets PyTorch's nn.Linear default, not Glorot."""
    mp.setattr(protocol, "RunConfig", partial(RunConfig, init="torch"))


def x255_for_standard(mp):
    """(d) The data loader scales inputs by 1/255 when mean/std ("standard") is asked."""
    load = data.load
    mp.setattr(data, "load", lambda name, scaling, *args, **kw: load(name, "x255", *args, **kw))


def frozen_biases(mp):
    """(e) SGD steps update the weights and leave the biases where they were."""
    step = engine.sgd_step

    def weights_only(params, x, y, lr):
        kept = [b.clone() for b in params[1::2]]
        step(params, x, y, lr)
        for b, b0 in zip(params[1::2], kept):
            b.copy_(b0)
    mp.setattr(engine, "sgd_step", weights_only)


def shuffle_once(mp):
    """(f) The first epoch's permutation is reused by every later epoch of the run."""
    batches, first = trainer._epoch_batches, {}

    def same_every_epoch(n, bs, drop_last, gen, device):
        if id(gen) not in first:  # one generator per run; kept alive here, so its id is not reused
            first[id(gen)] = (gen, batches(n, bs, drop_last, gen, device))
        return first[id(gen)][1]
    mp.setattr(trainer, "_epoch_batches", same_every_epoch)


# -- running a check of the suite on small, real runs -------------------------------
def _named(fn, values):
    """The entries of `values` that fn takes as parameters."""
    names = inspect.signature(fn).parameters
    return {k: v for k, v in values.items() if k in names}


def verdict_of(claim_test, at, where, data_root, patch=None, **params):
    """Train, on a fresh cache under `where`, the runs the claim test declares
    at scale `at` (with `patch` applied throughout), call it as CI does with
    those records, and return the verdict it hands to `reading`."""
    declare = next(m.args[0] for m in claim_test.pytestmark if m.name == "bsc_runs")
    handed = []
    with pytest.MonkeyPatch.context() as mp:
        if patch is not None:
            patch(mp)
        ctx = Context(at, list(SEEDS), "cpu", data_root, where / "cache", where / "report",
                      verbose_progress=False, out=lambda msg: None)
        struct = declare(at, list(SEEDS), **_named(declare, params))
        runs = claim._fill(struct, iter(ctx.records(claim.flatten(struct))))  # what the `runs` fixture does
        claim_test(**_named(claim_test, dict(params, ctx=ctx, runs=runs, record=lambda *a, **k: None,
                                             reading=lambda verdict, *a, **k: handed.append(verdict))))
    (verdict,) = handed
    return verdict


def assert_caught(claim_test, at, mutation, tmp_path, data_root, **params):
    """Unmutated, the check passes at this scale; mutated, CI would fail it."""
    clean = verdict_of(claim_test, at, tmp_path / "clean", data_root, **params)
    assert expect.outcome(clean, None)[0] == expect.PASS, f"the unmutated harness fails the check here: {clean}"
    mutated = verdict_of(claim_test, at, tmp_path / "mutated", data_root, mutation, **params)
    assert expect.outcome(mutated, None)[0] == expect.FAIL, f"{mutation.__name__} passes the check: {mutated}"
    print(f"{mutation.__name__}: unmutated {clean}\n  mutated {mutated}")  # the numbers, with -s


def test_ignoring_the_lr_is_caught_by_f2(tmp_path, mnist_root):
    """(a) Caught by F2 `test_larger_lr_recovers_accuracy[improves-standard]`:
    BS1024 at lr 0.1 must beat BS1024 at lr 0.01; ignoring the lr makes them one run."""
    assert_caught(f2.test_larger_lr_recovers_accuracy, ONE_EPOCH, ignore_the_lr, tmp_path, mnist_root,
                  claim="improves", scaling="standard")


def test_ignoring_the_batch_size_is_caught_by_f1(tmp_path, mnist_root):
    """(b) Caught by F1 `test_larger_batch_lowers_accuracy[test-standard]`:
    accuracy must fall from BS64 to BS1024; ignoring the batch size makes them one run."""
    assert_caught(f1.test_larger_batch_lowers_accuracy, ONE_EPOCH, ignore_the_batch_size, tmp_path, mnist_root,
                  split="test", scaling="standard")


@pytest.mark.parametrize("check", ["initial weight norm", "initial biases zero"])
def test_torch_init_by_default_is_caught_by_the_initial_state(tmp_path, mnist_root, check):
    """(c) Caught by the fidelity checks `test_holds_at_every_scale[initial
    weight norm-standard]` (|W| 26.2, not the post's about 44) and
    `[initial biases zero-standard]` (PyTorch draws biases, |B| about 0.88)."""
    assert_caught(fid.test_holds_at_every_scale, ONE_STEP, torch_init_by_default, tmp_path, mnist_root,
                  check=check, scaling="standard")


def test_x255_for_standard_is_caught_by_f12_adam_layers(tmp_path, mnist_root):
    """(d) Caught by F12 `test_second_layer_changes_least[Adam BS64-standard]`
    (secondary). Its rule since issue 13 (layer 2's 1 - cos below 0.9 of the
    other layers') leaves Adam with mean/std inputs inconclusive at quick scale
    (0.91 [0.89, 0.94]: its KNOWN entry) and contradicts it with x/255 (0.99):
    with x/255 inputs Adam's first layer keeps as much of its init as the
    second. CI would see that reading turn from its expected inconclusive to
    contradicted, a failure. Checked here at a smaller scale: the verdict is
    not contradicted unmutated, contradicted mutated. At the paper scale the
    fidelity summary catches it too (tests/test_fidelity_rules.py: x/255's B is
    0.49 where the post's is 0.11).

    Not checked in CI since issue 13: at this smaller scale (8000 images, a
    fifth of the epochs) the new rule already contradicts the unmutated
    harness (0.948 [0.937, 0.960], 2026-12-01), and at quick scale the pair of
    Adam runs costs about 3 minutes, past the mutation tests' 2. The quick
    suite itself still catches it (its x/255 readings, measured: F12 Adam
    0.99 contradicted, F10 BS1024 contradicted, where mean/std gives
    inconclusive and supported). Measure: BSC_MEASURE_X255=1."""
    if not os.environ.get("BSC_MEASURE_X255"):
        pytest.skip("x/255 for mean/std: caught by the quick suite's F10 BS1024 and F12 Adam readings, not by a "
                    "2-minute mutation test since issue 13's F12 rule (unmutated already contradicted at 8000 "
                    "images x 6 epochs: 0.948 [0.937, 0.960]); BSC_MEASURE_X255=1 reruns it")
    clean = verdict_of(f12.test_second_layer_changes_least, OLD_QUICK, tmp_path / "clean", mnist_root,
                       name="Adam BS64", scaling="standard")
    assert clean.verdict != "contradicted", f"the unmutated harness is contradicted here: {clean}"
    mutated = verdict_of(f12.test_second_layer_changes_least, OLD_QUICK, tmp_path / "mutated", mnist_root,
                         x255_for_standard, name="Adam BS64", scaling="standard")
    assert mutated.verdict == "contradicted", f"x255_for_standard is not contradicted: {mutated}"
    print(f"x255_for_standard: unmutated {clean}\n  mutated {mutated}")


def test_frozen_biases_are_caught_by_the_biases_trained_check(tmp_path, mnist_root):
    """(e) Caught by the fidelity check `test_holds_at_every_scale[biases
    trained-standard]`: the bias distance after training must be above 0."""
    assert_caught(fid.test_holds_at_every_scale, ONE_STEP, frozen_biases, tmp_path, mnist_root,
                  check="biases trained", scaling="standard")


SHUFFLE_MEASURED = ("undetectable by any reading: shuffling once instead of every epoch moves no number the suite "
                    "reads by more than half a seed-to-seed sd (quick scale, 3 seeds, BS64 / BS1024 at lr 0.01: "
                    "test accuracy -0.07 / -0.02 points, i.e. -0.47 / -0.07 sd; W +0.03 / -0.00 sd; B -0.18 / "
                    "+0.02 sd; |W| +0.03 / -0.00 sd; layer-3 cosine -0.15 / -0.01 sd; W(T/2)/W(T) +0.08 / "
                    "-0.01 sd); the post does not say how it shuffles. Measure: BSC_MEASURE_SHUFFLE=1")


@pytest.mark.skipif(not os.environ.get("BSC_MEASURE_SHUFFLE"), reason=SHUFFLE_MEASURED)
@pytest.mark.parametrize("bs", [64, 1024])
def test_shuffling_once_is_undetectable(tmp_path, mnist_root, bs):
    """(f) Caught by no check: the measurement behind SHUFFLE_MEASURED (quick
    scale, minutes): every number the readings of F1, F8, F10 and F12 use
    moves by less than one seed-to-seed sd."""
    def numbers(patch, where):
        with pytest.MonkeyPatch.context() as mp:
            if patch is not None:
                patch(mp)
            ctx = Context(scales.QUICK, list(SEEDS), "cpu", mnist_root, where / "cache", where / "report",
                          verbose_progress=False, out=lambda msg: None)
            recs = ctx.records(protocol.runs(scales.QUICK, SEEDS, "sgd", bs, 0.01))
        h = [r["history"] for r in recs]
        return {"test accuracy": [100 * final(r, "test_acc") for r in recs], "W": [final(r, "w_dist") for r in recs],
                "B": [final(r, "b_dist") for r in recs], "|W|": [final(r, "w_norm") for r in recs],
                "layer-3 cosine": [x["cos"][-1][2] for x in h],
                "W(T/2)/W(T)": [geometry.half_time_fraction(x["epoch"], x["w_dist"]) for x in h]}
    clean, once = numbers(None, tmp_path / "clean"), numbers(shuffle_once, tmp_path / "once")
    moved = {k: (np.mean(once[k]) - np.mean(clean[k])) / np.std(clean[k], ddof=1) for k in clean}
    print(f"BS{bs}: shuffled once - every epoch, in seed sd: " + ", ".join(f"{k} {d:+.2f}" for k, d in moved.items()))
    assert all(abs(d) < 1 for d in moved.values()), moved
