"""The quick-scale design study: which quick design's verdicts predict the paper scale's?

    python tools/quick_design.py [--candidates Q1 Q2] [--out reports/quick-design]

For each candidate quick scale (CANDIDATES below), run the primary readings of
every finding (claims/post.py) and literature claim (claims/literature.py) at
that scale under the default protocol, 3 seeds, `-n 2`, on a shared cache, and
compare each primary reading, and each finding's headline, with the paper scale:
with a one-seed paper point estimate, they agree when the quick verdict is
decided and on the same side of the rule's margin as the paper point (an
inconclusive quick verdict does not agree); with a multi-seed paper verdict, when
the verdicts are equal. Writes <out>/<candidate>.json and prints a table per
candidate, with its wall time.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from claims import literature, post  # noqa: E402
from harness import agreement  # noqa: E402

CANDIDATES = {  # Scale fields; see harness/scales.py
    "Q0": dict(train_subset=8000, test_subset=4000, train_eval_subset=4000, epoch_fraction=0.2, seeds=3,
               grad_trials=32),   # the quick scale until 2026-12: BS1024 takes 48 steps in "30 epochs"
    "Q1": dict(train_subset=4000, test_subset=4000, train_eval_subset=4000, epoch_fraction=1.0, seeds=3,
               grad_trials=32),   # fewer images, the post's epochs: BS1024 takes 120 steps
    "Q2": dict(train_subset=8000, test_subset=4000, train_eval_subset=4000, epoch_fraction=0.5, seeds=3,
               grad_trials=32),   # more images, half the epochs: also 120 steps, twice the samples
    "Q3": dict(train_subset=8000, test_subset=2000, train_eval_subset=2000, epoch_fraction=0.5, seeds=3,
               grad_trials=16),   # Q2's training, measured on half the images and half the trials: rejected
    "Q5": dict(train_subset=8000, test_subset=4000, train_eval_subset=1000, epoch_fraction=0.5, seeds=3,
               grad_trials=32),   # Q2 with the training loss on 1000 images: rejected (F8's headline)
}


FINDINGS = [*post.FINDINGS.values(), *literature.LITERATURE.values()]


def primary_nodeids():
    out = []
    for f in FINDINGS:
        module = next((ROOT / "claims").glob(f"test_{f.id.lower()}_*.py"))
        out += [f"claims/{module.name}::{rid}" for rid in f.primary]
    return out


def run(name, fields, out: Path, cache: Path):
    env = dict(os.environ, BSC_QUICK_CANDIDATE=json.dumps(fields), BSC_CACHE_DIR=str(cache),
               BSC_REPORT_DIR=str(out / name))
    t0 = time.time()
    p = subprocess.run([sys.executable, "-m", "pytest", *primary_nodeids(), "--quick", "-n", "2", "-q",
                        "-p", "tools.quick_candidate", "-p", "no:cacheprovider"], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    wall = time.time() - t0
    rep = out / name / "verdicts.json"
    quick = agreement.paper_readings(rep)  # reading id -> record, {} if absent
    skipped = {r["reading_id"]: r["reason"] for r in json.load(open(rep))["records"]
               if r.get("kind") == "skipped"} if rep.exists() else {}
    primary = [(f.id, rid) for f in FINDINGS for rid in f.primary]
    rows = agreement.compare(primary, quick, skipped, agreement.paper_readings())
    paper_heads = agreement.headlines()
    result = {"candidate": name, "scale": fields, "wall_s": wall, "pytest_tail": p.stdout[-600:], "rows": rows,
              "agree": sum(r["agree"] is True for r in rows), "disagree": sum(r["agree"] is False for r in rows),
              "pending": sum(r["agree"] is None for r in rows),
              "headlines": {fid: [v, paper_heads.get(fid)] for fid, v in agreement.headlines(rep).items()}}
    (out / f"{name}.json").write_text(json.dumps(result, indent=1))
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", nargs="*", default=list(CANDIDATES))
    ap.add_argument("--out", default=str(ROOT / "reports" / "quick-design"))
    ap.add_argument("--cache", default=os.environ.get("BSC_CACHE_DIR", str(ROOT / ".cache")))
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in a.candidates:
        r = run(name, CANDIDATES[name], out, Path(a.cache))
        print(f"\n## {name} {r['scale']}: {r['wall_s']:.0f} s; agree {r['agree']}, disagree {r['disagree']}, "
              f"pending or not judged {r['pending']}")
        for fid, (q, pv) in r["headlines"].items():
            print(f"  {fid:4} headline: quick {q:13} paper {pv}")
        for row in r["rows"]:
            print(f"  {row['finding']:4} {row['reading'][:70]:70} quick {row['quick']:13} paper {row['paper']}"
                  f" -> {row['agree']}")


if __name__ == "__main__":
    main()
