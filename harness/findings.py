"""One answer per finding: its primary readings, combined.

A Finding names the post's claim (paraphrased), the post's numbers it is
judged against and its primary readings: the reading ids (pytest test names,
e.g. "test_larger_batch_lowers_accuracy[test-standard]") that test the post's
claim under the post's protocol. They are declared in claims/post.py, one
committed place, before any multi-seed paper-scale result is read. Every other
reading of the module is secondary (another interpretation, or a protocol
sensitivity) and never enters the finding's verdict.

The combination (`combine`):
- supported if every primary reading judged at this scale is supported (an
  intersection-union test: each at its own 5% one-sided level, no correction
  needed);
- contradicted if Holm's step-down procedure at family-wise ALPHA rejects the
  claim for at least one primary reading, on the readings' one-sided
  contradiction p-values (Verdict.p_contra);
- inconclusive otherwise;
- "not judged" when no primary reading ran at this scale (paper-only
  readings are declared so in their module and skipped with the reason).
"""
from dataclasses import dataclass, field

ALPHA = 0.05  # family-wise, one-sided: the level each reading's 90% interval uses on one side
NOT_JUDGED = "not judged at this scale"


@dataclass(frozen=True)
class Related:
    """A reading another finding owns that bears on this one: the report shows
    its verdict in this finding's section, marked as not judged here."""
    finding: str                 # the finding that owns and judges the reading
    reading: str                 # its reading id
    why: str                     # what it says about this finding, in words


@dataclass(frozen=True)
class Finding:
    id: str                      # "F1" .. "F12"
    claim: str                   # the post's finding, paraphrased
    section: str                 # where the post makes it
    primary: tuple[str, ...]     # reading ids that decide the finding
    numbers: dict = field(default_factory=dict)  # the post's numbers for this finding, by name
    related: tuple[Related, ...] = ()  # other findings' readings shown (not judged) beside this one's

    def is_primary(self, reading_id: str) -> bool:
        return reading_id in self.primary


def holm(pvalues, alpha=ALPHA) -> list[bool]:
    """Holm's step-down rejections, in the order given."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    reject = [False] * len(pvalues)
    m = len(pvalues)
    for k, i in enumerate(order):
        if pvalues[i] > alpha / (m - k):
            break
        reject[i] = True
    return reject


def combine(finding: Finding, verdicts: dict) -> dict:
    """verdicts: reading id -> verdict dict (Verdict.as_dict()) of the primary
    readings that ran. Returns the finding's verdict with its reasons
    (related readings never enter it)."""
    judged = [r for r in finding.primary if r in verdicts]
    missing = [r for r in finding.primary if r not in verdicts]
    if not judged:
        return {"verdict": NOT_JUDGED, "judged": [], "not_judged": missing, "rejected": [],
                "rule": "no primary reading ran at this scale"}
    vs = [verdicts[r] for r in judged]
    # A reading without a p-value (none should lack one) counts by its own verdict, unadjusted.
    ps = [v["p_contra"] if v.get("p_contra") is not None else (0.0 if v["verdict"] == "contradicted" else 1.0)
          for v in vs]
    rejected = [r for r, rej in zip(judged, holm(ps)) if rej]
    if all(v["verdict"] == "supported" for v in vs):
        verdict = "supported"
    elif rejected:
        verdict = "contradicted"
    else:
        verdict = "inconclusive"
    rule = (f"supported if all {len(finding.primary)} primary readings are supported; contradicted if Holm's "
            f"procedure (family-wise alpha {ALPHA:g}, one-sided) rejects any of the {len(judged)} judged here")
    return {"verdict": verdict, "judged": judged, "not_judged": missing, "rejected": rejected,
            "p_contra": dict(zip(judged, ps)), "rule": rule}
