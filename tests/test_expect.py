"""Exact expected outcomes (harness/expect.py): every transition of a reading's
verdict into pytest's outcome, and the plugin applying it to a real claim."""
import importlib
import math
import re
from pathlib import Path

import pytest
# Loaded before the pytester run below: it restores sys.modules afterwards, and a
# torchvision first imported inside it would be imported a second time by a later
# test in this worker, which fails ("Only a single TORCH_LIBRARY...").
import torchvision  # noqa: F401

from harness import expect
from harness.errors import ConfigError
from harness.expect import FAIL, PASS, XFAIL, Known
from harness.verdicts import Verdict

pytest_plugins = ["pytester"]


def v(verdict, ci=(0.1, 0.2)):
    return Verdict(verdict, "rule", 0.15, ci, "3 seeds", 0.0)


C, I = "contradicted", "inconclusive"
K_C = Known("quick", "r", C, why="w")
K_I = Known("quick", "r", I)
K_2 = Known("quick", "r", ("supported", I), cpus="supported on CPU A, inconclusive on CPU B")


@pytest.mark.parametrize("verdict, known, status", [
    ("supported", None, PASS), (C, None, FAIL), (I, None, FAIL),
    (C, K_C, XFAIL), (I, K_C, FAIL), ("supported", K_C, FAIL),    # contradicted -> inconclusive fails
    (I, K_I, XFAIL), (C, K_I, FAIL), ("supported", K_I, FAIL),
    ("supported", K_2, PASS), (I, K_2, XFAIL), (C, K_2, FAIL),
])
def test_every_transition(verdict, known, status):
    got, message = expect.outcome(v(verdict), known)
    assert got == status, message


@pytest.mark.parametrize("known", [None, K_C, K_I, K_2])
def test_undefined_interval_always_fails(known):
    got, message = expect.outcome(v(I, (math.nan, math.nan)), known)
    assert got == FAIL and "undefined interval" in message


def test_xfail_reason_carries_the_measured_numbers():
    _, message = expect.outcome(Verdict(C, "rule", -2.125, (-3.3, -0.9), "3 vs 3 seeds", -0.5), K_C)
    assert "-2.125" in message and "-3.3" in message and "-0.9" in message and "as expected" in message


@pytest.mark.parametrize("kwargs, problem", [
    (dict(verdicts="supported"), "that is the default"),
    (dict(verdicts=("supported", I)), "name the CPUs"),
    (dict(verdicts="maybe"), "must be among"),
])
def test_bad_known_entries_are_refused(kwargs, problem):
    with pytest.raises(ConfigError, match=problem):
        Known("quick", "r", **kwargs)
    with pytest.raises(ConfigError, match="twice"):
        expect.index([K_C, K_I])


# A Known's why says the measured reason in words; the numbers come from the session's measurement,
# so a digit in a why is a typed measurement unless it is part of one of these protocol identifiers
# or rule constants (a batch size, a learning rate, an epoch count, a finding's id, the x/255 input
# scaling, the edge of stability 2/lr, a layer number, the margin of the same-accuracy rule).
PROTOCOL_IDS = re.compile(r"\bBS\d+|\blr \d+(?:\.\d+)?\b|\bx?\d+ epochs\b|\b[FL]\d+\b|\bx/255\b|\b2/lr\b"
                          r"|\blayer \d+\b|\bthe 0\.5-point margin\b")
NUMBER = re.compile(r"[-+~]?\d+(?:[.,]\d+)*%?x?")
CLAIM_MODULES = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "claims").glob("test_*.py"))


def measured_numbers(why):
    """The numbers in a why that are not part of a protocol identifier."""
    return NUMBER.findall(PROTOCOL_IDS.sub(" ", why))


@pytest.mark.parametrize("why, found", [
    ("the schedules agree (within 0.05 points)", ["0.05"]), ("lambda ~38 against ~26", ["~38", "~26"]),
    ("SD 0.3 of the per-seed differences", ["0.3"]), ("32 trials leave the interval across 2", ["32", "2"]),
    ("BS16 -> BS64 has slope -0.76", ["-0.76"]), ("about 1.4x, not 2x", ["1.4x", "2x"]),
    ("2.2 points below BS64", ["2.2"]), ("the middle 80% of the trial norms", ["80%"]),
    ("local slope BS64-1024", ["-1024"]), ("lr 0.1 for 120 steps", ["120"]), ("log2 ratio", ["2"]),
    ("at lr 0.01 BS1024 ends below BS64", []), ("with x/255 inputs, F1's runs and L2", []),
    ("BS1024 lr 0.01 x480 epochs", []), ("lambda just under 2/lr in layer 2", []),
    ("by more than the 0.5-point margin", []), ("lr 0.64 at BS4096", []),
])
def test_measured_numbers_flags_measurements_not_protocol_ids(why, found):
    assert measured_numbers(why) == found


def test_every_claim_module_has_its_whys_checked():
    assert {"test_f1_batch_size_accuracy", "test_f12_sphere_and_cosines", "test_fidelity",
            "test_l1_critical_batch_size", "test_l5_distance_log_growth"} <= set(CLAIM_MODULES)


@pytest.mark.parametrize("name", CLAIM_MODULES)
def test_known_whys_carry_no_measured_number(name):
    module = importlib.import_module(f"claims.{name}")
    typed = [f"{name}: {k.reading} ({k.scale}, {k.dataset}, {k.scaling}): {measured_numbers(k.why)} in {k.why!r}"
             for k in getattr(module, "KNOWN", ()) if measured_numbers(k.why)]
    assert not typed, "a why says the reason in words; the report shows the measured numbers:\n" + "\n".join(typed)


CLAIM = '''
import pytest
from harness.claim import uses
from harness.expect import Known
from harness.findings import Finding
from harness.verdicts import Verdict

FINDING = Finding("T1", "a test finding", "-", ("test_reading[plain-supported-supported]",))
KNOWN = (Known("quick", "test_reading[known-contradicted-contradicted]", "contradicted", scaling=""),
         Known("quick", "test_reading[known-inconclusive-contradicted]", "inconclusive", scaling=""),
         Known("quick", "test_reading[two-cpus-inconclusive]", ("supported", "inconclusive"), scaling="", cpus="A: s, B: i"))

@pytest.mark.parametrize("rid, verdict", [
    ("plain-supported", "supported"), ("plain-inconclusive", "inconclusive"),
    ("known-contradicted", "contradicted"), ("known-inconclusive", "contradicted"),
    ("two-cpus", "inconclusive"), ("nan", "inconclusive"),
])
def test_reading(reading, rid, verdict):
    ci = (float("nan"),) * 2 if rid == "nan" else (-0.5, -0.25)
    reading(Verdict(verdict, "rule", -0.375, ci, "3 seeds", 0.0), rid, protocol={})
'''


def test_the_plugin_applies_the_outcomes(pytester, tmp_path):
    pytester.makeconftest('pytest_plugins = ["harness.plugin"]')
    pytester.makepyfile(test_claim=CLAIM)
    result = pytester.runpytest_inprocess("-p", "no:xdist", "-p", "no:cacheprovider", "-rA", "--quick",
                                          "--cache-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"))
    outcome = {}
    for line in result.outlines:
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "XFAIL", "XPASS") and "[" in rest:
            outcome[rest.split("[", 1)[1].split("]")[0].rsplit("-", 1)[0]] = word
    assert outcome == {"plain-supported": "PASSED", "plain-inconclusive": "FAILED",
                       "known-contradicted": "XFAIL", "known-inconclusive": "FAILED",
                       "two-cpus": "XFAIL", "nan": "FAILED"}, result.outlines
    assert any("-0.375" in line for line in result.outlines if line.startswith("XFAIL"))  # measured, not typed
    report = (tmp_path / "r" / "verdicts.md").read_text()
    assert "| T1 " in report and "a test finding" in report
