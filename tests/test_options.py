"""Bad input gives a pytest usage error that names the problem and the fix,
with no traceback. Each case runs a real `python -m pytest` on a tiny target
(tests/targets/tiny_claim.py); the cases run side by side to keep this fast."""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import data
from harness.errors import ConfigError
from harness.trainer import Phase, RunConfig

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BSC_DATA_ROOT") or ROOT.parent / "shared" / "data")
TARGET = "tests/targets/tiny_claim.py"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
RAY = importlib.util.find_spec("ray") is not None  # the optional extra: pip install -e '.[ray]'
USAGE = 4  # pytest.ExitCode.USAGE_ERROR


def _cases(tmp, good_root):
    """id -> (extra args, extra env, [expected substrings], expected exit code).
    Every case but the device ones passes --device cpu (no torch import: fast)."""
    a_file = tmp / "a_file"
    a_file.write_text("not a folder")
    empty = tmp / "empty"
    empty.mkdir()
    fresh = ["--cache-dir", str(tmp / "fresh-cache")]

    def idx_root(name, damage):
        raw = tmp / name / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for f in data.FILES:
            os.link(good_root / "MNIST" / "raw" / f, raw / f) if f != name else None
        blob = (good_root / "MNIST" / "raw" / name).read_bytes()
        (raw / name).write_bytes(damage(blob))
        return str(tmp / name)

    gz = tmp / "gz" / "MNIST" / "raw"
    gz.mkdir(parents=True)
    for f in data.FILES:
        src = SHARED / "MNIST" / "raw" / (f + ".gz")
        if f == "train-images-idx3-ubyte":
            (gz / src.name).write_bytes(src.read_bytes()[:200_000])  # truncated download
        else:
            (gz / src.name).symlink_to(src)

    tiny = ["--data-root", str(good_root), "--cache-dir", str(tmp / "tiny-cache")]
    c = {
        "scale-unknown": (["--scale", "huge"], {}, ["unknown scale 'huge'", "choose one of ['paper', 'quick']"], USAGE),
        "scale-contradiction": (["--quick", "--scale", "paper"], {}, ["--quick contradicts --scale paper"], USAGE),
        "seeds-zero": (["--seeds", "0"], {}, ["--seeds must be at least 1, got 0", "pass --seeds 1 or more"], USAGE),
        "seeds-negative": (["--seeds", "-3"], {}, ["--seeds must be at least 1, got -3"], USAGE),
        "seeds-not-a-number": (["--seeds", "two"], {}, ["--seeds", "invalid int value: 'two'"], USAGE),
        "max-epochs-zero": (["--max-epochs", "0"], {}, ["--max-epochs must be at least 1, got 0"], USAGE),
        "scaling-unknown": (["--scaling", "zscore"], {}, ["unknown --scaling 'zscore'", "pass standard"], USAGE),
        "device-unknown": (["--device", "tpu"], {}, ["unknown device 'tpu'", "pass --device auto, cpu, cuda"], USAGE),
        "device-cuda-without-cuda": (["--device", "cuda"], {},
                                     ["--device cuda but torch sees no CUDA device", "pass --device cpu"], USAGE),
        "data-root-missing": (["--data-root", str(tmp / "nowhere")], {},
                              ["data root", "nowhere does not exist", "pass --data-root", "BSC_DATA_ROOT"], USAGE),
        "data-root-is-a-file": (["--data-root", str(a_file)], {}, ["a_file does not exist or is not a folder"], USAGE),
        "data-root-empty-env": ([], {"BSC_DATA_ROOT": ""}, ["--data-root is empty", "unset BSC_DATA_ROOT"], USAGE),
        "data-root-without-mnist": (["--data-root", str(empty)] + fresh, {},
                                    ["MNIST not found under data root", "MNIST/raw/", "--download"], USAGE),
        "dataset-unknown-option": (["--dataset", "cifar"], {}, ["unknown --dataset 'cifar'", "pass mnist"], USAGE),
        # a root that holds MNIST only: --dataset fashion-mnist checks (and names) its own folder
        "data-root-without-fashion-mnist": (["--data-root", str(good_root), "--dataset", "fashion-mnist"] + fresh, {},
                                            ["--dataset fashion-mnist", "FashionMNIST not found under data root",
                                             "FashionMNIST/raw/"], USAGE),
        "gz-truncated": (["--data-root", str(tmp / "gz")] + fresh, {},
                         ["cannot unpack", "train-images-idx3-ubyte.gz", "truncated", "copy it again"], USAGE),
        "idx-truncated": (["--data-root", idx_root("t10k-labels-idx1-ubyte", lambda b: b[:5000])] + fresh, {},
                          ["t10k-labels-idx1-ubyte is truncated or corrupt (5000 bytes, expected 10008)",
                           "copy the original file again"], USAGE),
        "idx-corrupt": (["--data-root", idx_root("t10k-images-idx3-ubyte", lambda b: b[:-1] + b"\x7f")] + fresh, {},
                        ["t10k-images-idx3-ubyte is corrupt: md5", "expected 2646ac647ad5339dbf082846283269ea",
                         "copy the original file again"], USAGE),
        "cache-dir-uncreatable": (["--cache-dir", str(a_file / "cache")], {},
                                  ["cache dir", "cannot be created (Not a directory)", "pass --cache-dir",
                                   "BSC_CACHE_DIR"], USAGE),
        "cache-dir-is-a-file": (["--cache-dir", str(a_file)], {}, ["cache dir", "a_file cannot be created",
                                                                   "pass --cache-dir"], USAGE),
        "report-dir-uncreatable": (["--report-dir", str(a_file / "reports")], {},
                                   ["report dir", "cannot be created (Not a directory)", "pass --report-dir",
                                    "BSC_REPORT_DIR"], USAGE),
        # a claim that declares an invalid run: the error names the run's problem and the module to fix
        "batch-size-zero": (tiny, {"BSC_TINY_BS": "0"}, ["batch size must be a positive integer, got 0",
                                                         "Fix the run declaration in", "tiny_claim.py"], USAGE),
        # under xdist the controller does not collect: each reading errors with the same message
        "batch-size-zero-xdist": (tiny + ["-n", "2"], {"BSC_TINY_BS": "0"},
                                  ["HarnessError", "declares an invalid run", "batch size must be a positive integer, "
                                   "got 0", "Fix the run declaration in"], 1),
        # (zero and NaN learning rates, and the other fields, are checked in-process below)
        "executor-unknown": (["--executor", "dask"], {}, ["unknown --executor 'dask'", "pass in-process or ray"],
                             USAGE),
        "runs-per-gpu-without-ray": (["--runs-per-gpu", "4"], {}, ["--runs-per-gpu shares GPUs among Ray tasks",
                                                                   "--executor ray --device cuda"], USAGE),
        "dataset-unknown": (tiny, {"BSC_TINY_DATASET": "cifar"},
                            ["unknown dataset 'cifar': choose one of ['fashion-mnist', 'mnist']"], USAGE),
        # ... and one that builds it inside a test: that test errors with the message alone
        "batch-size-negative-in-test": (tiny + ["-p", "no:randomly"], {"BSC_TINY_LATE": "1", "BSC_TINY_BS": "-1"},
                                        ["ConfigError: batch size must be a positive integer, got -1"], 1),
    }
    if RAY:  # (without Ray the message is the install line: test_executor_ray_without_ray below)
        c["executor-ray-with-xdist"] = (["--executor", "ray", "-n", "2"], {}, [
            "--executor ray submits every run from one process; with -n each of the 2 xdist workers would submit "
            "the whole list: drop -n"], USAGE)
        c["executor-ray-exact-numerics"] = (["--executor", "ray", "--exact-numerics"], {},
                                            ["--exact-numerics keys runs on this machine's fingerprint",
                                             "drop one of the two"], USAGE)
    if IS_ROOT:
        return c
    locked = tmp / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    unreadable = tmp / "unreadable"
    unreadable.mkdir()
    os.chmod(unreadable, 0)
    c["cache-dir-not-writable"] = (["--cache-dir", str(locked)], {}, ["cache dir", "not writable"], USAGE)
    c["data-root-unreadable"] = (["--data-root", str(unreadable)], {}, ["not readable"], USAGE)
    return c


def _run(args, env_extra, tmp):
    env = dict(os.environ, OMP_NUM_THREADS="1", BSC_REPORT_DIR=str(tmp / "reports"),
               BSC_CACHE_DIR=str(tmp / "cache"))
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_XDIST_WORKER_COUNT", None)
    env.update(env_extra)
    device = [] if "--device" in args else ["--device", "cpu"]
    collect = ["--collect-only"] if not env_extra.get("BSC_TINY_LATE") else []
    p = subprocess.run([sys.executable, "-m", "pytest", TARGET, "-q", "-p", "no:cacheprovider", *collect,
                        *device, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    if not (SHARED / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"needs the offline .gz data under {SHARED} (set BSC_DATA_ROOT)")
    tmp = tmp_path_factory.mktemp("options")
    good = data.resolve_root("mnist", SHARED, tmp_path_factory.mktemp("mnist"))  # never the user's .cache
    cases = _cases(tmp, good)

    class Outcomes(dict):
        """Each case's session, run when its test first asks: under xdist a
        worker runs only the cases of the tests it was given, so each runs once."""
        def __missing__(self, case):
            args, env, _, _ = cases[case]
            self[case] = (cases[case], _run(args, env, tmp))
            return self[case]

    yield Outcomes()
    for p in tmp.iterdir():
        if p.is_dir():
            os.chmod(p, 0o700)
    shutil.rmtree(tmp, ignore_errors=True)


CASES = ["scale-unknown", "scale-contradiction", "seeds-zero", "seeds-negative", "seeds-not-a-number", "max-epochs-zero",
         "device-unknown", "device-cuda-without-cuda", "data-root-missing", "data-root-is-a-file",
         "data-root-empty-env", "data-root-without-mnist", "dataset-unknown-option", "data-root-without-fashion-mnist",
         "gz-truncated", "idx-truncated", "idx-corrupt",
         "cache-dir-uncreatable", "cache-dir-is-a-file", "report-dir-uncreatable", "batch-size-zero",
         "dataset-unknown", "batch-size-negative-in-test", "executor-unknown", "runs-per-gpu-without-ray",
         *(["executor-ray-with-xdist", "executor-ray-exact-numerics"] if RAY else [])]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_a_clear_usage_error(outcomes, case):
    if case == "device-cuda-without-cuda":
        import torch
        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA: --device cuda is valid here")
    (args, env, expected, want_rc), (rc, out) = outcomes[case]
    assert "Traceback" not in out and "INTERNALERROR" not in out, out
    for text in expected:
        assert text in out, f"{case}: {text!r} missing from:\n{out}"
    assert rc == want_rc, out
    if want_rc == USAGE and case != "seeds-not-a-number":
        assert "ERROR: " in out  # pytest's usage-error line


@pytest.mark.parametrize("case", ["cache-dir-not-writable", "data-root-unreadable"])
def test_permission_errors(outcomes, case):
    if IS_ROOT:
        pytest.skip("running as root: chmod cannot make a folder unreadable or unwritable for root; "
                    "the uncreatable-path cases cover the same check")
    (args, env, expected, want_rc), (rc, out) = outcomes[case]
    assert rc == want_rc and "Traceback" not in out, out
    for text in expected:
        assert text in out, out


def test_executor_ray_without_ray_names_the_install(monkeypatch):
    import types

    from harness import options
    from harness.errors import HarnessError
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    o = types.SimpleNamespace(executor="ray", exact_numerics=False, runs_per_gpu=None, device="cpu")
    with pytest.raises(HarnessError, match=r"--executor ray needs Ray, which is not installed: "
                                           r"pip install -e '\.\[ray\]'"):
        options._executor(o)


@pytest.mark.parametrize("kw,msg", [
    (dict(epochs=1, batch_size=0, lr=0.01), "batch size must be a positive integer, got 0"),
    (dict(epochs=1, batch_size=-64, lr=0.01), "batch size must be a positive integer, got -64"),
    (dict(epochs=1, batch_size=64.0, lr=0.01), "batch size must be a positive integer, got 64.0"),
    (dict(epochs=1, batch_size=64, lr=0), "learning rate must be a positive number, got 0"),
    (dict(epochs=1, batch_size=64, lr=-1e-3), "learning rate must be a positive number, got -0.001"),
    (dict(epochs=1, batch_size=64, lr=float("nan")), "learning rate must be a positive number, got nan"),
    (dict(epochs=0, batch_size=64, lr=0.01), "epochs must be a positive integer, got 0"),
])
def test_phase_rejects_bad_values(kw, msg):
    with pytest.raises(ConfigError, match=msg.replace("(", r"\(").replace(".", r"\.")):
        Phase(**kw)


def test_runconfig_rejects_bad_values():
    ph = (Phase(1, 64, 0.01),)
    for kw, msg in ((dict(dataset="cifar"), "unknown dataset 'cifar'"), (dict(optimizer="rmsprop"), "unknown optimizer"),
                    (dict(train_subset=0), "subset sizes must be positive"), (dict(phases=()), "at least one phase")):
        with pytest.raises(ConfigError, match=msg):
            RunConfig(**({"phases": ph} | kw))


def test_relative_data_root_is_made_absolute_once(tmp_path, data_root):
    """`export BSC_DATA_ROOT=../shared/data`, as the README says: the session makes
    it absolute when it parses its options, and hands that to every subprocess."""
    repo = Path(__file__).resolve().parents[1]
    rel = os.path.relpath(data_root, repo)
    assert not os.path.isabs(rel)
    env = dict(os.environ, BSC_DATA_ROOT=rel)
    out = subprocess.run([sys.executable, "-m", "pytest", TARGET, "--collect-only", "-p", "no:cacheprovider",
                          "--device", "cpu", "--cache-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")],
                         cwd=repo, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"data root {data_root}" in out.stdout, out.stdout
