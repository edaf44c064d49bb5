"""--dataset: the data set rides on the scale into every run the protocol
builds, each data set has its own report dir, and the readings built on the
post's absolute MNIST numbers are skipped (training nothing) on another."""
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from claims import post
from harness import cache, options, protocol, scales

ROOT = Path(__file__).resolve().parents[1]


def test_the_scale_carries_the_data_set_into_every_run():
    fashion = replace(scales.QUICK, dataset="fashion-mnist")
    assert {s.dataset for s in protocol.runs(fashion, [0, 1], "sgd", 64, 0.01)} == {"fashion-mnist"}
    assert protocol.table_runs(fashion, [0], "Adam BS64")[0].dataset == "fashion-mnist"
    # MNIST runs keep their keys: the default scale names the default data set
    mnist = protocol.sgd(scales.QUICK, 64, 0.01, 0)
    assert mnist.dataset == "mnist" and cache.spec_key(mnist) == cache.spec_key(replace(mnist, dataset="mnist"))
    assert cache.spec_key(mnist) != cache.spec_key(protocol.sgd(fashion, 64, 0.01, 0))


def test_each_data_set_has_its_own_default_report_dir():
    assert options.default_report_dir("mnist") == options.DEFAULT_REPORTS
    assert options.default_report_dir("fashion-mnist") == options.DEFAULT_REPORTS / "fashion-mnist"


def test_every_absolute_mnist_entry_names_a_reading_that_exists():
    for entry in post.ABSOLUTE_MNIST:
        module, _, function = entry.partition("::")
        function = function.partition("[")[0]  # an entry may name a leading part of the parameters
        text = (ROOT / "claims" / module).read_text()
        assert not function or f"def {function}(" in text, f"{entry}: no such test in claims/{module}"


@pytest.mark.parametrize("dataset, skipped", [("fashion-mnist", True), ("mnist", False)])
def test_absolute_mnist_readings_skip_on_another_data_set(tmp_path, dataset, skipped):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("BSC_DATA_ROOT", None)
    args = ["claims/test_fidelity.py", "claims/test_f12_sphere_and_cosines.py", "-k", "fidelity_rows or layer_cosines",
            "--quick", "--no-train", "--records", "none", "--dataset", dataset, "--cache-dir", str(tmp_path / "c"),
            "--report-dir", str(tmp_path / "r"), "--device", "cpu", "-p", "no:cacheprovider", "-p", "no:randomly",
            "-q", "-rs"]
    p = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    n_abs = sum(int(line.split("[")[1].split("]")[0]) for line in out.splitlines()
                if line.startswith("SKIPPED [") and post.ABSOLUTE_MNIST_REASON in line)  # -rs groups equal reasons
    assert (n_abs == 6) if skipped else (n_abs == 0 and "--no-train" in out), out  # 1 fidelity + 5 cosine readings
