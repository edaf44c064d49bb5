"""A claim-shaped target for the fault tests (tests/test_faults.py, test_options.py).

Not collected by `pytest tests/` (its name does not match test_*.py); the
fault tests run it in a subprocess, e.g.

    BSC_TESTS_TMP=/tmp/c python -m pytest tests/targets/tiny_claim.py --cache-dir /tmp/c --report-dir /tmp/r

(BSC_TESTS_TMP: tests/conftest.py, which this target loads too, refuses a run cache
outside pytest's temporary directories and the roots listed there.)

It declares N tiny runs the way a claim does (`@uses`), reads them through
`ctx.records` and hands a verdict to the report. Environment knobs:
BSC_TINY_N (runs, default 3), BSC_TINY_BS (64), BSC_TINY_LR (0.05),
BSC_TINY_EPOCHS (1), BSC_TINY_TRAIN (512 images), BSC_TINY_DATASET (mnist),
BSC_TINY_LATE=1 (declare nothing: the test builds its runs itself, so a bad
knob fails inside the test rather than at collection).
BSC_TINY_PAUSE=<seconds>: each run takes at least that long (it sleeps after
training, before its entry is written), so that a fault test can reliably
interrupt a session between two runs even on a loaded machine.
Two tests read the same runs, so that two xdist workers both need them.
"""
import os
import time

import pytest

from harness import trainer, verdicts
from harness.claim import uses
from harness.findings import Finding
from harness.trainer import Phase, RunConfig, final

FINDING = Finding("T0", "tiny runs train", "-", ("test_tiny_runs[a]",))

if os.environ.get("BSC_TINY_PAUSE") and not getattr(trainer.train, "paused", False):
    _train = trainer.train

    def _slow_train(*args, **kwargs):
        out = _train(*args, **kwargs)
        time.sleep(float(os.environ["BSC_TINY_PAUSE"]))
        return out

    _slow_train.paused = True
    trainer.train = _slow_train


def runs():
    n = int(os.environ.get("BSC_TINY_N", "3"))
    bs = int(os.environ.get("BSC_TINY_BS", "64"))
    lr = float(os.environ.get("BSC_TINY_LR", "0.05"))
    epochs = int(os.environ.get("BSC_TINY_EPOCHS", "1"))
    ntrain = int(os.environ.get("BSC_TINY_TRAIN", "512"))
    dataset = os.environ.get("BSC_TINY_DATASET", "mnist")
    return [RunConfig(phases=(Phase(epochs, bs, lr),), seed=s, dataset=dataset, train_subset=ntrain,
                      test_subset=256, train_eval_subset=256) for s in range(n)]


def declared(scale, seeds):
    return [] if os.environ.get("BSC_TINY_LATE") else runs()


@uses(declared)
@pytest.mark.parametrize("reader", ["a", "b"])
def test_tiny_runs(ctx, reading, reader):
    acc = [100 * final(r, "test_acc") for r in ctx.records(runs())]
    v = verdicts.Verdict(verdicts.SUPPORTED if all(a > 0 for a in acc) else verdicts.INCONCLUSIVE,
                         rule="every tiny run has an accuracy", effect=min(acc), ci=(min(acc), max(acc)),
                         n=str(len(acc)), margin=0.0)
    reading(v, f"tiny runs train ({reader})", ours={f"seed{i}": a for i, a in enumerate(acc)}, unit="%")
