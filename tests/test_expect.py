"""Exact expected outcomes (harness/expect.py): every transition of a reading's
verdict into pytest's outcome, and the plugin applying it to a real claim."""
import math

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
