"""The suite's command-line options: declared once, validated once, frozen.

`parse(config)` turns pytest's parsed options into one Options object; every
problem becomes a HarnessError naming the problem and the fix, which the
plugin turns into a one-line usage error. Paths (data root, cache, report) are
made absolute here, once: xdist workers and test subprocesses may run in
another directory, and a relative `BSC_DATA_ROOT=../shared/data` must mean
the same folder for all of them.
"""
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import HarnessError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / ".cache"
DEFAULT_REPORTS = ROOT / "reports"
DEFAULT_RECORDS = ROOT / "reports" / "reference-paper" / "runs"  # the committed campaign (harness/records.py)


def add(parser):
    g = parser.getgroup("batch-size-claims")
    g.addoption("--scale", default=None, help="quick | paper (default paper: the post's own protocol)")
    g.addoption("--quick", action="store_true", help="the quick CPU scale (same as --scale quick)")
    g.addoption("--seeds", type=int, default=None, help="seeds per configuration (default: 3 quick, 5 paper)")
    g.addoption("--scaling", default="standard",
                help="input scaling: standard (mean/std, the post's protocol; default) | x255 | both "
                     "(x/255 readings are protocol sensitivity, reported apart)")
    g.addoption("--dataset", default="mnist",
                help="mnist (the post's; default) | fashion-mnist (the same protocol on Fashion-MNIST; readings "
                     "built on the post's absolute MNIST numbers are skipped, its report goes to "
                     "reports/fashion-mnist/)")
    g.addoption("--device", default="auto", help="auto | cpu | cuda (auto: cuda when available)")
    g.addoption("--data-root", default=os.environ.get("BSC_DATA_ROOT"),
                help="folder holding MNIST/raw/ (FashionMNIST/raw/ with --dataset fashion-mnist): the idx files "
                     "or their .gz; env BSC_DATA_ROOT")
    g.addoption("--download", action="store_true", help="let torchvision download MNIST into the cache dir")
    g.addoption("--cache-dir", default=os.environ.get("BSC_CACHE_DIR", str(DEFAULT_CACHE)),
                help="run cache shared by workers and sessions; env BSC_CACHE_DIR")
    g.addoption("--report-dir", default=os.environ.get("BSC_REPORT_DIR"),
                help="where verdicts.md/json and figures go (default reports/, reports/fashion-mnist/ with "
                     "--dataset fashion-mnist); env BSC_REPORT_DIR")
    g.addoption("--refresh", action="store_true", help="recompute cached runs instead of reading them")
    g.addoption("--records", default=os.environ.get("BSC_RECORDS", str(DEFAULT_RECORDS)),
                help="folder of published run records read under the cache (default: the committed paper "
                     "campaign, reports/reference-paper/runs); 'none' turns them off; env BSC_RECORDS")
    g.addoption("--publish", default=None,
                help="also write every run this session trains or reads from the local cache to this folder "
                     "as a published record (the campaign: --publish reports/reference-paper/runs)")
    g.addoption("--no-train", action="store_true",
                help="train nothing: judge what the published records and the cache hold, skip (with the "
                     "reason) every reading that would need a run they lack; regenerates a report in seconds")
    g.addoption("--exact-numerics", action="store_true",
                help="reuse only runs computed with this machine's fingerprint (device, threads, torch): "
                     "bit-identical reuse; published records from other machines are then not read")
    g.addoption("--executor", default="in-process",
                help="where missing runs train: in-process (this process, or each xdist worker; default) | ray "
                     "(Ray Core tasks: a local instance, or the cluster RAY_ADDRESS names; pip install -e '.[ray]')")
    g.addoption("--runs-per-gpu", type=int, default=None,
                help="with --executor ray --device cuda: runs that share one GPU (each takes 1/N of it; default 1)")
    g.addoption("--batched-seeds", action="store_true",
                help="train the seeds of each run together as one batched model (harness/batched.py): their own "
                     "numerics, keyed apart from single runs (so published single-run records are not read); "
                     "in-process only")
    g.addoption("--max-epochs", type=int, default=None,
                help="skip (do not train) runs longer than this many epochs, e.g. 60 leaves out the "
                     "480-epoch arm of F9/F10/F12 at paper scale; the readings that need them are skipped")


SCALING_CHOICES = {"standard": ("standard",), "x255": ("x255",), "both": ("standard", "x255")}
DATASETS = ("mnist", "fashion-mnist")  # harness/data.py's FOLDERS; the first is the post's


def default_report_dir(dataset: str) -> Path:
    """reports/ for MNIST, reports/<dataset>/ for another data set: the two
    reports sit side by side, and each finds the other's verdicts.json."""
    return DEFAULT_REPORTS if dataset == DATASETS[0] else DEFAULT_REPORTS / dataset


@dataclass(frozen=True)
class Options:
    scale: object            # harness.scales.Scale
    seeds: tuple[int, ...]
    scalings: tuple[str, ...]  # input scalings whose readings run ("standard", "x255")
    device: str              # "cpu" | "cuda" | "cuda:N"
    data_root: str | None    # absolute
    download: bool
    cache: Path              # absolute
    report_dir: Path         # absolute
    refresh: bool
    max_epochs: int | None
    records: tuple[Path, ...] = ()  # published record folders read under the cache
    publish: Path | None = None
    exact: bool = False
    no_train: bool = False
    executor: str = "in-process"  # harness/executor.py
    runs_per_gpu: int = 1
    batched_seeds: bool = False  # harness/batched.py


def absolute(path) -> str | None:
    """A user's path, made absolute against the current directory (None stays None)."""
    return None if path is None else os.path.abspath(os.path.expanduser(str(path)))  # "../x" -> "/.../x"


def parse(o, verify_data=True) -> Options:
    """o: pytest's config.option. verify_data: unpack and check the data files
    (once, on the controller, before workers start)."""
    from . import data, scales

    name = "quick" if o.quick else (o.scale or "paper")
    if o.quick and o.scale not in (None, "quick"):
        raise HarnessError(f"--quick contradicts --scale {o.scale}: pass one of them")
    if o.dataset not in DATASETS:
        raise HarnessError(f"unknown --dataset {o.dataset!r}: pass mnist (the post's) or fashion-mnist")
    scale = replace(scales.get(name), dataset=o.dataset)
    n = o.seeds if o.seeds is not None else scale.seeds
    if n < 1:
        raise HarnessError(f"--seeds must be at least 1, got {n}: pass --seeds 1 or more "
                           f"(default {scale.seeds} at {scale.name} scale)")
    if o.max_epochs is not None and o.max_epochs < 1:
        raise HarnessError(f"--max-epochs must be at least 1, got {o.max_epochs}: pass a positive epoch "
                           f"count, or leave it out to run every arm")
    scalings = SCALING_CHOICES.get(o.scaling)
    if scalings is None:
        raise HarnessError(f"unknown --scaling {o.scaling!r}: pass standard (the post's protocol), x255 or both")
    executor, runs_per_gpu = _executor(o)
    batched_seeds = _batched_seeds(o, n)
    # a Ray cluster's GPUs need not be on this machine: the executor checks the cluster's when it starts
    device = "cuda" if executor == "ray" and o.device == "cuda" else _device(o.device)
    root = _data_root(o.data_root, data.FOLDERS[o.dataset])
    cache = Path(absolute(o.cache_dir))
    report = Path(absolute(o.report_dir)) if o.report_dir else default_report_dir(o.dataset)
    for what, p, flag, env in (("cache", cache, "--cache-dir", "BSC_CACHE_DIR"),
                               ("report", report, "--report-dir", "BSC_REPORT_DIR")):
        _writable_dir(what, p, flag, env)
    if verify_data and (root or o.download):
        _check_data(o.dataset, root, cache, o.download)
    records = () if str(o.records).strip().lower() in ("none", "") else (Path(absolute(o.records)),)
    publish = Path(absolute(o.publish)) if o.publish else None
    if publish:
        _writable_dir("publish", publish, "--publish", None)
    return Options(scale, tuple(range(n)), scalings, device, root, bool(o.download), cache, report, bool(o.refresh),
                   o.max_epochs, records, publish, bool(o.exact_numerics),
                   bool(o.no_train), executor, runs_per_gpu, batched_seeds)


def _batched_seeds(o, seeds: int) -> bool:
    """--batched-seeds, refused where it cannot do what it says."""
    if not getattr(o, "batched_seeds", False):
        return False
    if o.exact_numerics:
        raise HarnessError("--exact-numerics reuses only bit-identical runs, and a seed trained with --batched-seeds "
                           "has bits that depend on the seeds batched with it: drop one of the two")
    if o.executor != "in-process":
        raise HarnessError(f"--batched-seeds trains each group of seeds in this process, not as --executor "
                           f"{o.executor} tasks: drop --batched-seeds or pass --executor in-process")
    if seeds < 2:
        raise HarnessError(f"--batched-seeds trains the seeds of a run together, and --seeds {seeds} leaves one: "
                           f"pass --seeds 2 or more, or drop --batched-seeds")
    return True


def _executor(o) -> tuple[str, int]:
    """--executor and --runs-per-gpu, checked together with the options they depend on."""
    import importlib.util

    from .executor import EXECUTORS
    if o.executor not in EXECUTORS:
        raise HarnessError(f"unknown --executor {o.executor!r}: pass {' or '.join(EXECUTORS)}")
    if o.executor == "ray" and importlib.util.find_spec("ray") is None:
        raise HarnessError("--executor ray needs Ray, which is not installed: pip install -e '.[ray]'")
    if o.executor == "ray" and o.exact_numerics:
        raise HarnessError("--exact-numerics keys runs on this machine's fingerprint, and --executor ray trains "
                           "them on Ray's workers: drop one of the two")
    if o.runs_per_gpu is not None:
        if o.runs_per_gpu < 1:
            raise HarnessError(f"--runs-per-gpu must be at least 1, got {o.runs_per_gpu}")
        if o.executor != "ray" or o.device != "cuda":
            raise HarnessError("--runs-per-gpu shares GPUs among Ray tasks: pass it with --executor ray "
                               "--device cuda, or leave it out")
    return o.executor, o.runs_per_gpu or 1


def _check_data(dataset, root, cache, download):
    """The chosen data set's files, checked once; a problem names the data set."""
    from . import data
    from .errors import DataError
    try:
        data.resolve_root(dataset, root, cache, download)
    except DataError as e:
        if dataset == DATASETS[0]:
            raise
        raise DataError(f"--dataset {dataset}: {e}") from None


def _data_root(value, folder="MNIST") -> str | None:
    if value is None:
        return None
    if not str(value).strip():
        raise HarnessError("--data-root is empty (is BSC_DATA_ROOT set to an empty string?): pass "
                           f"--data-root <folder holding {folder}/raw/> or unset BSC_DATA_ROOT")
    root = Path(absolute(value))
    if not root.is_dir():
        raise HarnessError(f"data root {root} does not exist or is not a folder: pass --data-root "
                           f"<folder holding {folder}/raw/> or set BSC_DATA_ROOT")
    if not os.access(root, os.R_OK | os.X_OK):
        raise HarnessError(f"data root {root} is not readable: fix its permissions or pass another --data-root")
    return str(root)


def _writable_dir(what, p, flag, env):
    """Create p and write a probe file in it: os.access alone says yes to root."""
    fix = f"pass {flag} <writable dir>" + (f" or set {env}" if env else "")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HarnessError(f"{what} dir {p} cannot be created ({e.strerror}): {fix}") from None
    if not p.is_dir():
        raise HarnessError(f"{what} dir {p} is not a folder: {fix}")
    try:
        with tempfile.NamedTemporaryFile(dir=p, prefix=".probe."):
            pass
    except OSError as e:
        raise HarnessError(f"{what} dir {p} is not writable ({e.strerror}): {fix}") from None


def _device(choice):
    if choice == "cpu":
        return "cpu"
    if choice != "auto" and not (choice == "cuda" or (choice.startswith("cuda:") and choice[5:].isdigit())):
        raise HarnessError(f"unknown device {choice!r}: pass --device auto, cpu, cuda or cuda:<index>")
    import torch
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise HarnessError(f"--device {choice} but torch sees no CUDA device (torch {torch.__version__}, "
                           f"built with CUDA {torch.version.cuda}): pass --device cpu (or auto)")
    index = int(choice[5:]) if ":" in choice else 0
    if index >= torch.cuda.device_count():
        raise HarnessError(f"--device {choice} but torch sees {torch.cuda.device_count()} CUDA device(s): "
                           f"pass --device cuda:0 .. cuda:{torch.cuda.device_count() - 1} (or auto)")
    return choice
