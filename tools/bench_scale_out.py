"""Is `--executor ray` as fast as `-n 2` on this machine? And what does a Ray task cost?

    BSC_DATA_ROOT=../shared/data python tools/bench_scale_out.py [--repeats 3] [--out FILE] [paths ...] [-- pytest args]

1. Per-task overhead: a local Ray instance (2 workers, warmed up) computes tiny
   runs one at a time; a task's overhead is its round trip as the driver sees
   it less the compute time its worker measured (spec.compute). The in-process
   executor, measured the same way, is the floor.
2. The suite: `pytest PATHS --quick -n 2` and `pytest PATHS --quick --executor ray`
   (default PATHS: claims/), each from a fresh empty cache with published records off,
   alternated for --repeats rounds (ray first in odd rounds), wall times
   compared by their medians. The issue's bar: ray <= 1.1 x `-n 2`.

Needs a quiet machine: every round trains the whole selection from nothing
(the quick suite is ~500 s a run on 2 cores). Prints a markdown report, also
written to --out. A small selection checks that it works, e.g.
`tools/bench_scale_out.py --repeats 1 claims/test_f1_batch_size_accuracy.py -- --seeds 2`.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# this checkout's harness, for the pytest sessions and for Ray's workers (they inherit the environment)
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
os.environ.pop("RAY_ADDRESS", None)  # this machine's own local instance, never a cluster


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def overhead(tasks: int) -> list[str]:
    import torch

    from harness import data, scales
    from harness.context import Context
    from harness.executor import InProcess
    from harness.ray_executor import RayExecutor
    from harness.trainer import Phase, RunConfig
    tmp = Path(tempfile.mkdtemp(prefix="bsc-bench-"))
    root = str(data.resolve_root("mnist", os.environ.get("BSC_DATA_ROOT"), tmp))
    spec = lambda seed: RunConfig(phases=(Phase(1, 64, 0.05),), seed=seed, train_subset=64,  # noqa: E731
                                  test_subset=64, train_eval_subset=64)
    rows = []
    torch.set_num_threads(1)  # as a Ray task trains
    for ex in (InProcess(), RayExecutor("cpu")):
        ctx = Context(scales.QUICK, [0], "cpu", root, tmp / ex.name, tmp / "report", verbose_progress=False,
                      out=lambda msg: None, executor=ex)
        t0 = time.perf_counter()
        [f.result() for f in [ex.submit(spec(s), ctx) for s in range(2)]]  # start (Ray) and warm both workers
        first = time.perf_counter() - t0
        trips, computes = [], []
        for s in range(2, 2 + tasks):
            t = time.perf_counter()
            c = ex.submit(spec(s), ctx).result()
            trips.append(time.perf_counter() - t)
            computes.append(c.wall_s)
        ex.close()
        over = sorted(t - c for t, c in zip(trips, computes))
        rows.append(f"| {ex.name} | {tasks} | {statistics.median(computes) * 1e3:.1f} | "
                    f"{statistics.median(over) * 1e3:.1f} ({over[0] * 1e3:.1f}-{over[-1] * 1e3:.1f}) | {first:.1f} |")
    return ["| executor | tasks | compute per task, median (ms) | overhead per task, median (range) (ms) | "
            "first 2 tasks, together (s): Ray's start, 2 workers' warm-up |", "|---|---|---|---|---|", *rows]


def suite(mode: str, paths, extra) -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix=f"bsc-bench-{mode}-") as tmp:
        how = ["-n", "2"] if mode == "-n 2" else ["--executor", "ray"]
        cmd = [sys.executable, "-m", "pytest", *paths, "--quick", *how, "-q", "-p", "no:cacheprovider",
               "--records", "none", "--cache-dir", f"{tmp}/cache", "--report-dir", f"{tmp}/report", *extra]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0, p.returncode


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", default=["claims/"])
    ap.add_argument("--repeats", type=int, default=3, help="rounds of the two suite runs (at least 3 to decide)")
    ap.add_argument("--tasks", type=int, default=20, help="tiny tasks timed one at a time for the overhead")
    ap.add_argument("--out", help="also write the report here")
    a = ap.parse_args(argv)
    lines = [f"# --executor ray against -n 2: {' '.join(a.paths)} {' '.join(extra)}".rstrip(), "",
             f"{platform.node()}, {os.cpu_count()} logical cores; load average before: {load()}", "",
             "## Per-task overhead", ""]
    lines += overhead(a.tasks)
    lines += ["", "## The suite, cold cache (wall s)", "",
              "| round | -n 2 | --executor ray | ratio |", "|---|---|---|---|"]
    walls = {"-n 2": [], "ray": []}
    for r in range(a.repeats):
        order = ["ray", "-n 2"] if r % 2 == 0 else ["-n 2", "ray"]
        got = {}
        for mode in order:
            got[mode] = suite(mode, a.paths, extra)
            walls[mode].append(got[mode][0])
            print(f"round {r + 1} {mode}: {got[mode][0]:.0f} s (exit {got[mode][1]}, load {load()})", flush=True)
        rc = "" if got["ray"][1] == got["-n 2"][1] else f" (exit codes differ: {got['-n 2'][1]} / {got['ray'][1]})"
        n2, ray = got["-n 2"][0], got["ray"][0]
        lines.append(f"| {r + 1} | {n2:.1f} | {ray:.1f} | {ray / n2:.3f}{rc} |")
    med = {k: statistics.median(v) for k, v in walls.items()}
    lines += ["", f"Medians: -n 2 {med['-n 2']:.1f} s, --executor ray {med['ray']:.1f} s: ratio "
                  f"**{med['ray'] / med['-n 2']:.3f}** (bar: 1.1); {a.repeats} round(s); load average after: {load()}"]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
