"""MNIST (and Fashion-MNIST) as float tensors resident on the run's device.

torchvision reads the idx files; we only make sure they are where it looks.
The shared offline copy holds `.gz` files whose md5 torchvision rejects, so we
unpack them into a writable cache root and open that with download=False. With
`download=True` (users with internet) torchvision's own download is used.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

from . import atomic
from .errors import DataError

# torch is imported inside the functions that need it, so that validating the
# options and the data files (conftest, on every session) stays fast.

FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
FILES = {  # unpacked name -> size in bytes (the published originals)
    "train-images-idx3-ubyte": 47040016,
    "train-labels-idx1-ubyte": 60008,
    "t10k-images-idx3-ubyte": 7840016,
    "t10k-labels-idx1-ubyte": 10008,
}
# md5 of the unpacked originals (../shared/data/README.md; torchvision's own lists)
MD5 = {
    "MNIST": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "FashionMNIST": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}
# the idx header each file must start with: magic (2051 images, 2049 labels), count, rows, cols
HEADERS = {
    "train-images-idx3-ubyte": (2051, 60000, 28, 28),
    "train-labels-idx1-ubyte": (2049, 60000),
    "t10k-images-idx3-ubyte": (2051, 10000, 28, 28),
    "t10k-labels-idx1-ubyte": (2049, 10000),
}
SCALINGS = ("x255", "standard")  # x/255, or (x/255 - mean) / std of the train set


def _check_name(name):
    if name not in FOLDERS:
        raise DataError(f"unknown dataset {name!r}: choose one of {sorted(FOLDERS)}")


def _complete(raw: Path, suffix: str = "") -> bool:
    return all((raw / (f + suffix)).is_file() for f in FILES)


def _fix(path: Path) -> str:
    return (f"Delete {path} and copy the original file again (or put its .gz in <data root>/"
            f"{path.parent.parent.name}/raw/ and let the suite unpack it).")


_VERIFIED: dict = {}  # (path, size, mtime) -> True: each file is hashed once per process


def _check_sizes(raw: Path):
    """Size, idx header and (for the known datasets) md5 of each unpacked file.
    A file that fails is named, with what was expected and how to fix it."""
    for f, size in FILES.items():
        path = raw / f
        try:
            st = path.stat()
            if st.st_size != size:
                raise DataError(f"{path} is truncated or corrupt ({st.st_size} bytes, expected {size}). {_fix(path)}")
            stamp = (str(path), st.st_size, st.st_mtime_ns)
            if stamp in _VERIFIED:
                continue
            h = hashlib.md5()
            with open(path, "rb") as fh:
                head = fh.read(16)
                h.update(head)
                for block in iter(lambda: fh.read(1 << 22), b""):
                    h.update(block)
        except PermissionError as e:
            raise DataError(f"{path} is not readable ({e.strerror}): fix its permissions or pass another "
                            f"--data-root") from None
        want = HEADERS[f]
        got = tuple(int.from_bytes(head[i:i + 4], "big") for i in range(0, 4 * len(want), 4))
        if got != want:
            raise DataError(f"{path} is not a valid idx file (header {got}, expected {want}). {_fix(path)}")
        md5 = MD5.get(raw.parent.name, {}).get(f)
        if md5 and h.hexdigest() != md5:
            raise DataError(f"{path} is corrupt: md5 {h.hexdigest()}, expected {md5}. {_fix(path)}")
        _VERIFIED[stamp] = True


def _unpack(src_raw: Path, dst_raw: Path):
    """gunzip each file into dst_raw atomically: a crash never leaves half a file."""
    try:
        dst_raw.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create {dst_raw} to unpack the data into ({e.strerror}): "
                        f"pass --cache-dir <writable dir> or set BSC_CACHE_DIR") from None
    for f in FILES:
        if (dst_raw / f).is_file() and (dst_raw / f).stat().st_size == FILES[f]:
            continue
        try:  # on any failure, an interruption included, atomic.replacing removes its temp file
            with gzip.open(src_raw / (f + ".gz"), "rb") as zin, atomic.replacing(dst_raw / f) as out:
                shutil.copyfileobj(zin, out, 1 << 20)
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise DataError(f"cannot unpack {src_raw / (f + '.gz')}: {e}. The archive is truncated, "
                            f"unreadable or corrupt: copy it again from the original, then rerun.") from None


def resolve_root(name: str, data_root, cache_root, download: bool = False) -> Path:
    """Return a root that torchvision can open with download=False (or will download into).

    The files are checked (size, idx header, md5) before the root is returned:
    a truncated or corrupt file is a DataError naming it and the fix. A bad
    copy in our own cache is unpacked again when the .gz source is at hand."""
    _check_name(name)
    folder = FOLDERS[name]
    cache_data = Path(cache_root) / "data"
    if data_root and not Path(data_root).is_dir():
        raise DataError(f"data root {data_root} does not exist or is not a folder: pass --data-root "
                        f"<folder holding {folder}/raw/> or set BSC_DATA_ROOT")
    src = Path(data_root) / folder / "raw" if data_root else None
    have_gz = src is not None and _complete(src, ".gz")
    if src is not None and _complete(src):
        _check_sizes(src)
        return Path(data_root)
    cached = cache_data / folder / "raw"
    if _complete(cached):
        try:
            _check_sizes(cached)
            return cache_data
        except DataError:
            if not have_gz:
                raise
            for f in FILES:  # a damaged copy of our own: unpack it again
                (cached / f).unlink(missing_ok=True)
    if have_gz:
        _unpack(src, cached)
        _check_sizes(cached)
        return cache_data
    if download:
        return cache_data
    where = Path(data_root) if data_root else None
    partial = sorted(p.name for p in src.iterdir()) if src is not None and src.is_dir() else []
    found = f" ({src} holds only {', '.join(partial)})" if partial else ""
    raise DataError(
        f"{folder} not found{f' under data root {where}' if where else ''}{found}. Put the four idx files "
        f"(or their .gz) in <root>/{folder}/raw/ and pass --data-root <root> (or set BSC_DATA_ROOT), "
        f"or pass --download to let torchvision fetch them into {cache_data}."
    )


@dataclass(frozen=True)
class Tensors:
    """The whole dataset on one device: images flattened to float rows, labels int64."""
    x_train: torch.Tensor  # noqa: F821 (annotations are not evaluated)
    y_train: torch.Tensor  # noqa: F821
    x_test: torch.Tensor  # noqa: F821
    y_test: torch.Tensor  # noqa: F821


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
    import torch
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
    import torch
    if n is None or n >= n_total:
        return None
    g = torch.Generator().manual_seed(1_000_003 + salt)
    return torch.randperm(n_total, generator=g)[:n].sort().values
