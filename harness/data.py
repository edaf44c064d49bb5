"""MNIST (and Fashion-MNIST) as float tensors resident on the run's device.

torchvision reads the idx files; we only make sure they are where it looks.
The shared offline copy holds `.gz` files whose md5 torchvision rejects, so we
unpack them into a writable cache root and open that with download=False. With
`download=True` (users with internet) torchvision's own download is used.
"""
import functools
import gzip
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import DataError

FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
FILES = {  # unpacked name -> size in bytes (the published originals)
    "train-images-idx3-ubyte": 47040016,
    "train-labels-idx1-ubyte": 60008,
    "t10k-images-idx3-ubyte": 7840016,
    "t10k-labels-idx1-ubyte": 10008,
}
SCALINGS = ("x255", "standard")  # x/255, or (x/255 - mean) / std of the train set


def _check_name(name):
    if name not in FOLDERS:
        raise DataError(f"unknown dataset {name!r}: choose one of {sorted(FOLDERS)}")


def _complete(raw: Path, suffix: str = "") -> bool:
    return all((raw / (f + suffix)).is_file() for f in FILES)


def _check_sizes(raw: Path):
    for f, size in FILES.items():
        got = (raw / f).stat().st_size
        if got != size:
            raise DataError(
                f"{raw / f} is truncated or corrupt ({got} bytes, expected {size}). "
                f"Delete it and copy the original idx file again (or its .gz into the data root)."
            )


def _unpack(src_raw: Path, dst_raw: Path):
    """gunzip each file into dst_raw atomically: a crash never leaves half a file."""
    dst_raw.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        if (dst_raw / f).is_file() and (dst_raw / f).stat().st_size == FILES[f]:
            continue
        fd, tmp = tempfile.mkstemp(dir=dst_raw, prefix=f + ".", suffix=".tmp")
        try:
            with gzip.open(src_raw / (f + ".gz"), "rb") as zin, os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(zin, out, 1 << 20)
            os.replace(tmp, dst_raw / f)
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            Path(tmp).unlink(missing_ok=True)
            raise DataError(f"cannot unpack {src_raw / (f + '.gz')}: {e}. "
                            f"The archive is unreadable or corrupt: copy it again.") from e


def resolve_root(name: str, data_root, cache_root, download: bool = False) -> Path:
    """Return a root that torchvision can open with download=False (or will download into)."""
    _check_name(name)
    folder = FOLDERS[name]
    cache_data = Path(cache_root) / "data"
    for root in ([Path(data_root)] if data_root else []) + [cache_data]:
        if _complete(root / folder / "raw"):
            _check_sizes(root / folder / "raw")
            return root
    if data_root:
        src = Path(data_root) / folder / "raw"
        if _complete(src, ".gz"):
            _unpack(src, cache_data / folder / "raw")
            _check_sizes(cache_data / folder / "raw")
            return cache_data
    if download:
        return cache_data
    where = Path(data_root) if data_root else None
    raise DataError(
        f"{folder} not found{f' under data root {where}' if where else ''}. Put the four idx files "
        f"(or their .gz) in <root>/{folder}/raw/ and pass --data-root <root> (or set BSC_DATA_ROOT), "
        f"or pass --download to let torchvision fetch them into {cache_data}."
    )


@dataclass(frozen=True)
class Tensors:
    """The whole dataset on one device: images flattened to float rows, labels int64."""
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_uint8(name: str, root: Path, download: bool = False):
    """(train images, train labels, test images, test labels) as torchvision reads them."""
    import torchvision  # imported late: it is slow and not needed by cache-only sessions
    cls = {"mnist": torchvision.datasets.MNIST, "fashion-mnist": torchvision.datasets.FashionMNIST}[name]
    try:
        tr = cls(str(root), train=True, download=download)
        te = cls(str(root), train=False, download=download)
    except (RuntimeError, ValueError, OSError, AssertionError) as e:
        raise DataError(f"torchvision could not read {name} under {root}: {e}. "
                        f"Check the idx files there, or pass --download.") from e
    if tr.data.shape != (60000, 28, 28) or te.data.shape != (10000, 28, 28):
        raise DataError(f"{name} under {root} has shapes {tuple(tr.data.shape)} / {tuple(te.data.shape)}, "
                        f"expected 60000 and 10000 images of 28x28: the files are corrupt.")
    return tr.data, tr.targets, te.data, te.targets


@functools.lru_cache(maxsize=4)
def load(name: str, scaling: str, device: str, root: str, download: bool = False) -> Tensors:
    """Load once per process; every run in the process shares these tensors."""
    if scaling not in SCALINGS:
        raise DataError(f"unknown input scaling {scaling!r}: choose one of {SCALINGS}")
    xtr, ytr, xte, yte = load_uint8(name, Path(root), download)
    xtr = xtr.reshape(len(xtr), -1).float().div_(255)
    xte = xte.reshape(len(xte), -1).float().div_(255)
    if scaling == "standard":  # statistics of the training images, as torchvision's recipes do
        mean, std = xtr.mean(), xtr.std()
        xtr, xte = (xtr - mean) / std, (xte - mean) / std
    dev = torch.device(device)
    return Tensors(xtr.to(dev), ytr.long().to(dev), xte.to(dev), yte.long().to(dev))


def fixed_subset(n_total: int, n: int | None, salt: int) -> torch.Tensor | None:
    """A fixed random subset of indices, the same for every run and seed (None = all)."""
    if n is None or n >= n_total:
        return None
    g = torch.Generator().manual_seed(1_000_003 + salt)
    return torch.randperm(n_total, generator=g)[:n].sort().values
