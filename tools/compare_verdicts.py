"""Compare two verdict reports reading by reading (a refactor must change no verdict).

    python tools/compare_verdicts.py BEFORE.json AFTER.json [--map reports/reading-id-map.json]

BEFORE and AFTER are verdicts.json files; the map (JSON: old node id -> new node id)
renames readings whose ids changed. Prints every reading whose verdict, effect or
interval differs, or that exists on one side only, and exits 1 if any does.
"""
import argparse
import json
import sys


def readings(path, rename=None):
    rename = rename or {}
    out = {}
    for r in json.load(open(path))["records"]:
        if r.get("kind") == "verdict":
            nodeid = rename.get(r["nodeid"], r["nodeid"])
            v = r["verdict"]
            out[nodeid] = (v["verdict"], v["effect"], tuple(v["ci"]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--map", help="JSON {old node id: new node id}")
    a = ap.parse_args(argv)
    before = readings(a.before, json.load(open(a.map)) if a.map else None)
    after = readings(a.after)
    diff = [(k, before.get(k), after.get(k)) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    for k, b, c in diff:
        print(f"DIFFERS {k}\n  before {b}\n  after  {c}")
    same = len(set(before) & set(after)) - sum(1 for k, b, c in diff if b and c)
    print(f"{len(before)} readings before, {len(after)} after; {same} identical (verdict, effect, interval); "
          f"{len(diff)} differ or are missing on one side")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
