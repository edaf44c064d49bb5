"""What produced a number: versions, commit, device, threads."""
import functools
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import torch

from . import __version__, numerics


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=Path(__file__).resolve().parent, timeout=5).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return _cpu_model() or platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def _cpu_model() -> str:
    """The CPU's marketing name (Linux), e.g. 'AMD EPYC 9B14'; '' elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def fingerprint(device: str) -> dict:
    """What can change a run's last bits without changing its protocol: the
    device and its model, the intra-op thread count (how BLAS splits a
    matmul), the torch version, as the process that computes the run sees them."""
    return {"device": torch.device(device).type, "device_name": device_name(device),
            "threads": torch.get_num_threads(), "torch": str(torch.__version__)}


def collect(device: str) -> dict:
    try:
        import torchvision
        tv = torchvision.__version__
    except ImportError:  # pragma: no cover
        tv = "missing"
    return {
        "package": __version__, "numerics": {g: v for g, (v, _) in numerics.VERSIONS.items()}, "commit": git_commit(),
        "python": platform.python_version(), "torch": str(torch.__version__), "torchvision": str(tv),
        "numpy": str(np.__version__), "device": device, "device_name": device_name(device),
        "threads": torch.get_num_threads(), "cpus": os.cpu_count(), "host": platform.node(),
    }
