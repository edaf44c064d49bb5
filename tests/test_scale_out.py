"""Scale-out through Ray Core (--executor ray) on a local Ray instance: tiny
runs and a gradient chunk trained as Ray tasks give the records and weights
that in-process training gives, bit for bit (same CPU, one intra-op thread
each); a session interrupted with Ctrl-C keeps every run it finished and a
rerun trains only the rest. Skipped without Ray (pip install -e '.[ray]')."""
import math
import os
import signal

import pytest
import torch

pytest.importorskip("ray", reason="the Ray extra is not installed: pip install -e '.[ray]'")

from harness import gradients, scales  # noqa: E402
from harness.context import Context  # noqa: E402
from harness.ray_executor import RayExecutor  # noqa: E402
from harness.trainer import Phase, RunConfig  # noqa: E402
from test_faults import _all_sound, _counts, _finish, _start, _wait_entries  # noqa: E402

TINY = dict(train_subset=512, test_subset=256, train_eval_subset=256)
TIMING = ("provenance", "wall_s", "sampler_s", "start_s", "trials_per_s")  # where and how fast, not what was computed


@pytest.fixture(autouse=True)
def local_ray(monkeypatch):
    """A private local instance, whatever cluster the environment names."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def _trained(specs, root, folder, executor=None):
    ctx = Context(scales.QUICK, [0], "cpu", root, folder / "cache", folder / "report", verbose_progress=False,
                  out=lambda msg: None, executor=executor)
    ctx.plan(specs)
    ctx.prefetch(specs)
    return [ctx.cache.read(ctx.key(s)) for s in specs]


def test_ray_tasks_compute_what_in_process_computes(tmp_path, mnist_root):
    start = RunConfig(phases=(Phase(2, 64, 0.05),), seed=0, snapshots=(1,), **TINY)
    specs = [start, RunConfig(phases=(Phase(1, 32, 0.05),), seed=1, **TINY), RunConfig(
        phases=(Phase(1, 128, 0.05),), seed=2, optimizer="adam", **TINY),
        # reads the start run's weights: they travel to the worker with the task
        gradients.GradSpec(start, "early", 1, first=0, count=2, batch_sizes=(16, 64, 256), n_samples=256, group=2),
        # starts from the start run's epoch 2 (Context.plan): its weights travel with the task too
        RunConfig(phases=(Phase(2, 64, 0.05), Phase(1, 128, 0.05)), seed=0, **TINY)]
    ray_exec = RayExecutor("cpu")
    try:
        remote = _trained(specs, mnist_root, tmp_path / "ray", ray_exec)
    finally:
        ray_exec.close()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each Ray task trains
    try:
        local = _trained(specs, mnist_root, tmp_path / "in-process")
    finally:
        torch.set_num_threads(threads)
    for spec, r, loc in zip(specs, remote, local):
        assert r["record"]["provenance"]["fingerprint"] == loc["record"]["provenance"]["fingerprint"]
        assert r["record"]["provenance"]["fingerprint"]["threads"] == 1
        assert _same({k: v for k, v in r["record"].items() if k not in TIMING},
                     {k: v for k, v in loc["record"].items() if k not in TIMING}), spec.describe()
        assert _same(r["tensors"], loc["tensors"]), spec.describe()
    assert remote[0]["tensors"]["epoch1"]  # the snapshot the gradient chunk started from came back too
    assert remote[-1]["record"]["provenance"]["resumed_from"]["epoch"] == 2


N = 5
SLOW = {"BSC_TINY_N": str(N), "BSC_TINY_BS": "16", "BSC_TINY_EPOCHS": "8"}  # ~1-3 s a run: time to interrupt
ARGS = ["--executor", "ray", "--quick"]  # --quick: no paper-scale time estimate (a calibration) at collection


def test_ctrl_c_through_ray_loses_nothing_and_resumes(tmp_path, mnist_root):
    p = _start(tmp_path, mnist_root, "s1", SLOW, ARGS)
    _wait_entries(tmp_path, 1, p)
    os.killpg(p.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole job, Ray's processes included
    out = _finish(p)
    assert p.returncode == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out and "rerun the same command to resume" in out, out
    kept = _all_sound(tmp_path)
    assert 1 <= kept < N, f"the interrupt must land mid-suite: {kept} of {N} cached\n{out}"
    p = _start(tmp_path, mnist_root, "s2", SLOW, ARGS)
    out = _finish(p)
    assert p.returncode == 0, out
    assert _counts(out) == (N - kept, kept), out
    assert f"[ray] {N - kept} run(s) to compute on Ray (a local instance" in out, out
    assert _all_sound(tmp_path) == N


def test_gpu_runs_share_a_gpu_and_a_cluster_without_gpus_is_refused(monkeypatch):
    """--device cuda --runs-per-gpu 4: each task asks Ray for a quarter of a GPU,
    and a CPU to drive it; Ray picks the GPU, so cuda:N is just cuda there."""
    import ray

    from harness.errors import HarnessError
    assert RayExecutor("cuda:1", 4).resources() == {"num_cpus": 1, "num_gpus": 0.25}
    assert RayExecutor("cuda:1", 4).device == "cuda"
    assert RayExecutor("cpu").resources() == {"num_cpus": 1}
    monkeypatch.setattr(ray, "is_initialized", lambda: True)
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 8.0})
    with pytest.raises(HarnessError, match=r"--device cuda but the Ray cluster has no GPU .*: pass --device cpu"):
        RayExecutor("cuda").start()
