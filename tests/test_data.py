"""The data loader against the facts of ../shared/data/README.md, and its
errors on missing, truncated or corrupt files (real files, no mocks)."""
import gzip
import os
import shutil
from pathlib import Path

import pytest
import torch

from harness import data
from harness.errors import ConfigError, DataError
from harness.trainer import Phase, RunConfig

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BSC_DATA_ROOT") or ROOT.parent / "shared" / "data")
RAW = SHARED / "MNIST" / "raw"


def _need_shared():
    if not (RAW / "train-images-idx3-ubyte.gz").is_file() and not (RAW / "train-images-idx3-ubyte").is_file():
        pytest.skip(f"no MNIST under {SHARED}: set BSC_DATA_ROOT to the offline data folder")


@pytest.fixture(scope="module")
def root(mnist_root):
    """A root with the unpacked files (tests/conftest.py: unpacked once per worker into a tmp dir)."""
    _need_shared()
    return Path(mnist_root)


@pytest.fixture(scope="module")
def mnist(root):
    return data.load_uint8("mnist", root)


def test_shapes_and_dtype(mnist):
    xtr, ytr, xte, yte = mnist
    assert tuple(xtr.shape) == (60000, 28, 28) and tuple(xte.shape) == (10000, 28, 28)
    assert xtr.dtype == xte.dtype == torch.uint8
    assert len(ytr) == 60000 and len(yte) == 10000


def test_first_labels_and_counts(mnist):
    _, ytr, _, yte = mnist
    assert ytr[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert torch.bincount(ytr, minlength=10).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert torch.bincount(yte, minlength=10).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_pixel_mean_std_after_scaling(mnist):
    x = mnist[0].float().div_(255)
    assert round(x.mean().item(), 4) == 0.1307
    assert round(x.std().item(), 4) == 0.3081


def test_load_gives_flat_float_rows_once_per_process(root):
    a = data.load("mnist", "x255", "cpu", str(root))
    b = data.load("mnist", "x255", "cpu", str(root))
    assert a is b  # one copy per process, shared by every run
    assert a.x_train.shape == (60000, 784) and a.x_train.dtype == torch.float32 and a.y_train.dtype == torch.int64
    assert 0.0 <= a.x_train.min().item() and a.x_train.max().item() <= 1.0


def test_gz_unpacked_into_writable_cache_and_damaged_copy_replaced(tmp_path):
    _need_shared()
    if not (RAW / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("the data root holds unpacked files, not .gz")
    before = sorted(p.name for p in RAW.iterdir())
    got = data.resolve_root("mnist", SHARED, tmp_path)
    assert got == tmp_path / "data"
    raw = got / "MNIST" / "raw"
    for f, size in data.FILES.items():
        assert (raw / f).stat().st_size == size
    assert not list(raw.glob("*.tmp"))
    assert sorted(p.name for p in RAW.iterdir()) == before  # nothing written beside the shared files
    # a damaged copy in our cache (same size, one byte changed) is detected by md5 and unpacked again
    lab = raw / "train-labels-idx1-ubyte"
    blob = bytearray(lab.read_bytes())
    blob[100] ^= 0xFF
    lab.write_bytes(bytes(blob))
    assert data.resolve_root("mnist", SHARED, tmp_path) == got
    assert lab.read_bytes()[8:18] == bytes([5, 0, 4, 1, 9, 2, 1, 3, 1, 4])


def test_missing_root(tmp_path):
    with pytest.raises(DataError, match="does not exist.*--data-root"):
        data.resolve_root("mnist", tmp_path / "nowhere", tmp_path / "cache")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"MNIST not found under data root .*empty.*MNIST/raw/.*--download"):
        data.resolve_root("mnist", tmp_path / "empty", tmp_path / "cache")
    with pytest.raises(DataError, match="unknown dataset 'cifar'"):
        data.resolve_root("cifar", tmp_path / "empty", tmp_path / "cache")
    with pytest.raises(ConfigError, match="unknown dataset 'cifar'"):
        RunConfig(phases=(Phase(1, 64, 0.01),), dataset="cifar")


def _gz_root(tmp_path, damage):
    """A data root of .gz files: links to the shared ones, one damaged copy."""
    raw = tmp_path / "root" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in data.FILES:
        (raw / (f + ".gz")).symlink_to(RAW / (f + ".gz"))
    bad = raw / "train-labels-idx1-ubyte.gz"
    blob = (RAW / bad.name).read_bytes()
    bad.unlink()
    bad.write_bytes(damage(blob))
    return tmp_path / "root"


@pytest.mark.parametrize("damage,match", [
    (lambda b: b[: len(b) // 2], "truncated"),
    (lambda b: b"this is not gzip" * 10, "corrupt"),
    (lambda b: b[:20] + bytes(x ^ 0x55 for x in b[20:200]) + b[200:], "corrupt"),
])
def test_truncated_or_corrupt_gz(tmp_path, damage, match):
    _need_shared()
    if not (RAW / "train-labels-idx1-ubyte.gz").is_file():
        pytest.skip("the data root holds unpacked files, not .gz")
    root = _gz_root(tmp_path, damage)
    with pytest.raises(DataError, match=match) as e:
        data.resolve_root("mnist", root, tmp_path / "cache")
    assert "train-labels-idx1-ubyte.gz" in str(e.value) and "copy it again" in str(e.value)
    assert not list((tmp_path / "cache").rglob("*.tmp"))  # no half-unpacked file left


def _idx_root(tmp_path, root, name, damage):
    """A data root of unpacked idx files: copies of the good ones, one damaged."""
    raw = tmp_path / "idx" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in data.FILES:
        shutil.copyfile(root / "MNIST" / "raw" / f, raw / f)
    p = raw / name
    p.write_bytes(damage(p.read_bytes()))
    return tmp_path / "idx"


@pytest.mark.parametrize("name,damage,match", [
    ("t10k-labels-idx1-ubyte", lambda b: b[:-100], r"truncated or corrupt \(9908 bytes, expected 10008\)"),
    ("t10k-images-idx3-ubyte", lambda b: b"\0\0\x08\x01" + b[4:], r"not a valid idx file \(header \(2049,"),
    ("train-images-idx3-ubyte", lambda b: b[:5000] + b"\xff" + b[5001:], "corrupt: md5"),
])
def test_truncated_or_corrupt_idx(tmp_path, root, name, damage, match):
    bad = _idx_root(tmp_path, root, name, damage)
    with pytest.raises(DataError, match=match) as e:
        data.resolve_root("mnist", bad, tmp_path / "cache")
    assert name in str(e.value) and "copy the original file again" in str(e.value)


def test_gzip_of_wrong_content_is_caught_after_unpacking(tmp_path, root):
    """A .gz that unpacks cleanly to the wrong bytes fails the md5 check."""
    _need_shared()
    if not (RAW / "train-labels-idx1-ubyte.gz").is_file():
        pytest.skip("the data root holds unpacked files, not .gz")
    raw = tmp_path / "r" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in data.FILES:
        if f != "t10k-labels-idx1-ubyte":
            (raw / (f + ".gz")).symlink_to(RAW / (f + ".gz"))
    blob = (root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").read_bytes()
    with gzip.open(raw / "t10k-labels-idx1-ubyte.gz", "wb") as z:
        z.write(blob[:8] + bytes(len(blob) - 8))  # right size and header, all labels 0
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte is corrupt: md5"):
        data.resolve_root("mnist", tmp_path / "r", tmp_path / "cache")


def test_standard_scaling_uses_the_training_pixels_statistics(root):
    """"standard" inputs: (x/255 - mean) / std with the mean and std of all
    47M training pixels (0.1307 and 0.3081, the constants torchvision's MNIST
    recipes use), applied to the test images too. So the training pixels have
    mean 0 and std 1 (to float32 summation error), and the test pixels do
    not: their mean is (0.1325 - 0.1307) / 0.3081 = 0.006."""
    raw = data.load("mnist", "x255", "cpu", str(root))
    std = data.load("mnist", "standard", "cpu", str(root))
    assert std.x_train.shape == raw.x_train.shape and std.x_train.dtype == torch.float32
    x = std.x_train.double()
    assert abs(x.mean().item()) < 1e-5 and x.std().item() == pytest.approx(1.0, abs=1e-5)
    # the constants, to their 4 digits: at most 0.00005 / 0.3081 off in the shift, 0.00005 / 0.3081 in the scale
    torch.testing.assert_close(std.x_train, (raw.x_train - 0.1307) / 0.3081, rtol=0, atol=1e-3)
    m, s = raw.x_train.mean(), raw.x_train.std()
    torch.testing.assert_close(std.x_test, (raw.x_test - m) / s, rtol=1e-6, atol=1e-6)
    assert std.x_test.double().mean().item() == pytest.approx((0.1325 - 0.1307) / 0.3081, abs=5e-4)
    assert torch.equal(std.y_train, raw.y_train) and torch.equal(std.y_test, raw.y_test)
