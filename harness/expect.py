"""Exact expected outcomes: how a reading's verdict becomes pytest's outcome.

A reading passes only when it is supported. A module may declare, in KNOWN,
readings whose non-support at a scale is an established, measured result of
the suite: Known(scale, reading, verdicts, ...) names the verdict expected
there (contradicted or inconclusive). Only where a measurement on two CPUs
gave two verdicts may an entry allow both, and it then says which CPUs.

    no entry:               supported -> pass;  anything else -> fail
    entry, verdict allowed: supported -> pass;  otherwise -> xfail, its reason
                            built from the numbers measured in this session
    entry, verdict not allowed, or an undefined (NaN) interval -> fail

so a reading that moves from contradicted to inconclusive, or whose interval
becomes undefined, fails instead of passing unnoticed.
"""
from dataclasses import dataclass

from .errors import ConfigError

VERDICTS = ("supported", "contradicted", "inconclusive")
PASS, XFAIL, FAIL = "pass", "xfail", "fail"


@dataclass(frozen=True)
class Known:
    scale: str                  # "quick" | "paper"
    reading: str                # the reading id: the test's name, e.g. "test_x[recovers-standard]"
    verdicts: tuple[str, ...]   # the verdict(s) expected there
    scaling: str = "standard"   # input scaling of the runs the reading uses
    dataset: str = "mnist"
    cpus: str = ""              # which CPUs gave which verdict, when more than one is allowed
    why: str = ""               # the measured reason, in words (the numbers come from the session)

    def __post_init__(self):
        vs = (self.verdicts,) if isinstance(self.verdicts, str) else tuple(self.verdicts)
        object.__setattr__(self, "verdicts", vs)
        bad = [v for v in vs if v not in VERDICTS]
        if bad or not vs:
            raise ConfigError(f"Known({self.reading!r}): verdicts {vs} must be among {VERDICTS}")
        if vs == ("supported",):
            raise ConfigError(f"Known({self.reading!r}) expects only 'supported': that is the default; remove it")
        if len(vs) > 1 and not self.cpus:
            raise ConfigError(f"Known({self.reading!r}) allows {vs}: name the CPUs that measured each (cpus=...)")

    def key(self):
        return (self.scale, self.dataset, self.scaling, self.reading)


def index(entries) -> dict:
    """{key: Known}; a reading listed twice is an error."""
    out = {}
    for k in entries:
        if k.key() in out:
            raise ConfigError(f"KNOWN lists {k.key()} twice: keep one entry")
        out[k.key()] = k
    return out


def outcome(verdict, known: Known | None) -> tuple[str, str]:
    """(PASS | XFAIL | FAIL, message) for a verdict (harness.verdicts.Verdict)."""
    if not verdict.decided:
        exp = f" (expected {' or '.join(known.verdicts)})" if known else ""
        return FAIL, f"undefined interval{exp}: {verdict}"
    if known is None:
        return (PASS, str(verdict)) if verdict.supported else (FAIL, str(verdict))
    if verdict.verdict not in known.verdicts:
        return FAIL, f"expected {' or '.join(known.verdicts)} at {known.scale} scale, measured {verdict}"
    if verdict.supported:
        return PASS, str(verdict)
    where = f" ({known.cpus})" if known.cpus else ""
    return XFAIL, f"{verdict.verdict}, as expected at {known.scale} scale{where}: {verdict}" + \
        (f" [{known.why}]" if known.why else "")
