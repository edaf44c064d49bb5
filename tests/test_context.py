"""--max-epochs: the session context skips, never trains, a run it excludes,
and lets a figure tell which runs it may draw."""
import pytest

from harness import protocol, scales
from harness.context import Context, RunSkipped


def ctx_with(tmp_path, max_epochs):
    return Context(scales.QUICK, [0], "cpu", None, tmp_path / "cache", tmp_path / "report",
                   verbose_progress=False, max_epochs=max_epochs)


def test_excluded_run_is_skipped_not_trained(tmp_path):
    ctx = ctx_with(tmp_path, max_epochs=60)
    long = protocol.sgd(scales.QUICK, 1024, 0.01, 0, epochs=480)
    assert long.epochs > 60 and ctx.too_long(long)
    assert not ctx.available([long])
    with pytest.raises(RunSkipped, match="--max-epochs 60 excludes"):
        ctx.results([long])
    runs = tmp_path / "cache" / "runs"
    assert not (runs.exists() and any(runs.iterdir()))  # nothing was trained or written


def test_short_runs_stay_available(tmp_path):
    ctx = ctx_with(tmp_path, max_epochs=60)
    short = protocol.sgd(scales.QUICK, 64, 0.01, 0)
    assert short.epochs <= 60 and ctx.available([short])
    assert ctx_with(tmp_path, max_epochs=None).available([protocol.sgd(scales.QUICK, 1024, 0.01, 0, epochs=480)])


@pytest.mark.parametrize("select, runs", [("", 4), ("not batch_size_2", 3)])
def test_deselected_bs2_test_declares_no_bs2_run(tmp_path, data_root, select, runs):
    """Runs are gathered from the selected readings only: `-k "not batch_size_2"`
    at paper scale must not train F1's 900k-step BS2 runs. The paper-scale
    estimate, printed at collection, counts the runs the session needs."""
    import subprocess
    import sys
    from pathlib import Path
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "pytest", "claims/test_f1_batch_size_accuracy.py", "--collect-only",
                          "-q", "-p", "no:cacheprovider", "--scale", "paper", "--seeds", "1", "-k", select, "--records", "none",
                          "--data-root", data_root, "--cache-dir", str(tmp_path / "c"),
                          "--report-dir", str(tmp_path / "r")], cwd=repo, capture_output=True, text=True)
    assert f"{runs} of {runs} runs to compute" in out.stderr, out.stdout + out.stderr


def test_bs2_is_declared_paper_only():
    from claims import test_f1_batch_size_accuracy as f1
    from harness.errors import NotAtThisScale
    with pytest.raises(NotAtThisScale, match="paper-scale reading"):
        f1.bs2_and_bs64(scales.QUICK, [0])
    assert [r.phases[0].batch_size for r in f1.bs2_and_bs64(scales.PAPER, [0])[2]] == [2]


def test_every_spec_type_implements_the_protocol():
    from harness import gradients
    from harness.spec import Spec
    run = protocol.sgd(scales.QUICK, 1024, 0.01, 0)
    adam = protocol.adam(scales.QUICK, 1024, 0.01, 0)
    grad = gradients.specs(scales.QUICK, run)[0]
    calib = {1: 1e-4, 1024: 1e-2}
    for s in (run, adam, grad):
        assert isinstance(s, Spec)
        assert s.cost() > 0 and s.estimate_seconds(calib) > 0 and s.describe()
    assert run.diverged_at({"record": {"diverged_at": 3}, "tensors": {}}) == 3
    assert grad.diverged_at({"record": {}, "tensors": {}}) is None
    # one Adam factor for the ordering proxy and the time estimate
    assert adam.cost() / run.cost() == pytest.approx(adam.estimate_seconds(calib) / run.estimate_seconds(calib))


@pytest.mark.parametrize("scaling, collected", [("standard", "3/5 tests collected (2 deselected)"),
                                                 ("x255", "2/5 tests collected (3 deselected)"),
                                                 ("both", "5 tests collected")])
def test_scaling_option_selects_the_readings(tmp_path, scaling, collected):
    """--scaling runs the readings of the chosen input scaling only (the post's
    protocol, standard, by default); a reading without a scaling always runs."""
    import subprocess
    import sys
    from pathlib import Path
    out = subprocess.run([sys.executable, "-m", "pytest", "claims/test_f1_batch_size_accuracy.py", "--collect-only",
                          "-q", "-p", "no:cacheprovider", "--quick", "--device", "cpu", "--scaling", scaling,
                          "--cache-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")],
                         cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
    assert collected in out.stdout, out.stdout + out.stderr


def _tiny(**kw):
    from harness.trainer import Phase, RunConfig
    return RunConfig((Phase(2, 64, 0.1),), train_subset=512, test_subset=256, train_eval_subset=256, **kw)


def test_a_run_keeping_snapshots_serves_the_requests_for_fewer(mnist_root, tmp_path):
    """L3 asks F1's run to keep its last epoch: the session trains that run once,
    and it serves the plain request too, with the same history a plain run has."""
    plain, last, both = _tiny(), _tiny(snapshots=(2,)), _tiny(snapshots=(1, 2))
    ctx = Context(scales.QUICK, [0], "cpu", mnist_root, tmp_path / "cache", tmp_path / "report",
                  verbose_progress=False, out=lambda msg: None)
    ctx.plan([plain, last, both, _tiny(seed=1)])
    assert ctx.resolve(plain) == ctx.resolve(last) == both and ctx.resolve(_tiny(seed=1)) == _tiny(seed=1)
    got = ctx.results([plain, last])
    assert len(list((tmp_path / "cache" / "runs").glob("*.run"))) == 1  # trained once
    assert set(got[1]["tensors"]) >= {"epoch2"}
    alone = Context(scales.QUICK, [0], "cpu", mnist_root, tmp_path / "alone", tmp_path / "report",
                    verbose_progress=False, out=lambda msg: None).results([plain])[0]
    assert alone["record"]["history"] == got[0]["record"]["history"]  # snapshots change no number


def test_a_stored_request_serves_itself(mnist_root, tmp_path):
    """A run already in the cache (or the published records) keeps serving its
    own requests: planning never orphans a record."""
    plain, last = _tiny(), _tiny(snapshots=(2,))
    mk = lambda: Context(scales.QUICK, [0], "cpu", mnist_root, tmp_path / "cache", tmp_path / "report",  # noqa: E731
                         verbose_progress=False, out=lambda msg: None)
    mk().results([plain])
    ctx = mk()
    ctx.plan([plain, last])
    assert ctx.resolve(plain) == plain and ctx.resolve(last) == last



def test_a_variant_an_earlier_session_stored_serves_a_later_request(mnist_root, tmp_path):
    """The whole suite stored a run keeping snapshots (1, 2); a later session of
    one claim asks for it with (2,) or none. The stored variant serves both:
    nothing trains again, and --no-train skips nothing. A stored variant that
    lacks the asked snapshot serves nothing."""
    from harness import records
    from harness.cache import spec_key
    plain, last, both, first = _tiny(), _tiny(snapshots=(2,)), _tiny(snapshots=(1, 2)), _tiny(snapshots=(1,))
    mk = lambda cache, **kw: Context(scales.QUICK, [0], "cpu", mnist_root, tmp_path / cache,  # noqa: E731
                                     tmp_path / "report", verbose_progress=False, out=lambda msg: None, **kw)
    suite = mk("cache")
    suite.plan([both])
    entry = suite.results([both])[0]
    later = mk("cache", no_train=True)
    later.plan([plain, last])
    assert later.resolve(plain) == later.resolve(last) == both
    assert [e["record"]["history"] for e in later.results([plain, last])] == [entry["record"]["history"]] * 2
    assert len(list((tmp_path / "cache" / "runs").glob("*.run"))) == 1  # nothing trained again

    # the published records serve the same way, on a machine with an empty cache
    records.write(tmp_path / "published", spec_key(both), entry, both.describe())
    elsewhere = mk("empty", no_train=True, published=(tmp_path / "published",))
    elsewhere.plan([plain])
    assert elsewhere.resolve(plain) == both and "source" in elsewhere.results([plain])[0]

    # (1,) stored alone does not hold epoch 2's parameters: the request for (2,) is its own run
    stored_first = mk("other")
    stored_first.plan([first])
    stored_first.results([first])
    other = mk("other", no_train=True)
    other.plan([last])
    assert other.resolve(last) == last
    with pytest.raises(RunSkipped, match="--no-train"):
        other.results([last])

PLAN_SCRIPT = """
import sys
from harness import scales
from harness.context import Context
from harness.trainer import Phase, RunConfig
t = dict(train_subset=512, test_subset=256, train_eval_subset=256)
base = [RunConfig((Phase(4, 64, 0.1),), snapshots=s, **t) for s in ((), (2,), (4,), (1, 4))]
longer = RunConfig((Phase(6, 64, 0.1),), **t)
switch = RunConfig((Phase(2, 64, 0.1), Phase(2, 256, 0.1)), **t)
ctx = Context(scales.QUICK, [0], "cpu", None, sys.argv[1], sys.argv[2], verbose_progress=False, out=lambda m: None)
ctx.plan([*base, longer, switch])
show = lambda s: (s.describe(), s.snapshots)
print(sorted((show(a), show(b)) for a, b in ctx.served_by.items()))
print(sorted((show(a), show(p), k) for a, (p, k) in ctx.prefix.items()))
"""


def test_the_plan_does_not_depend_on_the_process_hash_seed(tmp_path):
    """Variants of one run that differ only in their snapshots tie in rank; the plan
    must break the tie the same way in every process (xdist workers, a session and
    its --no-train rerun), not by the order a set iterates in, which follows Python's
    per-process string hashing: otherwise one process looks for keys another never
    stored (a Fashion-MNIST --no-train rerun skipped F3 that way)."""
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outs = set()
    for seed in ("0", "1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=root)
        p = subprocess.run([sys.executable, "-c", PLAN_SCRIPT, str(tmp_path / "c"), str(tmp_path / "r")],
                           env=env, capture_output=True, text=True, cwd=root)
        assert p.returncode == 0, p.stderr
        outs.add(p.stdout)
    assert len(outs) == 1, "\n---\n".join(sorted(outs))
    assert "x6" in outs.pop()  # the longer run starts from one of the variants (the test plans something)
