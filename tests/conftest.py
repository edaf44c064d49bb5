"""Shared helpers for the harness tests."""
import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def data_root():
    """The data root the suite uses (option/env), or ../shared/data beside the repo."""
    from harness.options import absolute
    root = os.environ.get("BSC_DATA_ROOT") or (str(SHARED_DATA) if SHARED_DATA.is_dir() else None)
    if root is None:
        pytest.skip("no MNIST data root: set BSC_DATA_ROOT")
    return absolute(root)  # as the options make it: subprocesses may start in another folder
