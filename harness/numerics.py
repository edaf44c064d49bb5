"""The numerics versions: part of every cache key, so that a cached or published
run is only read back by code that computes the same numbers.

A spec's key (cache.spec_key) is its protocol (its dataclass fields) plus the
version of the code that turns that protocol into numbers. Groups of code
decide the numbers: training (engine, model, data, geometry and the trainer's
loop), the gradient sampler (sampler, tails and the experiment's compute), L3's
sharpness estimate (harness/sharpness.py) and seeds trained together
(harness/batched.py, --batched-seeds), which keys batched runs on top of
training's. Each group has a version and the
hash of its source as it stood when the version was set: tests/test_numerics.py
fails when the source changes and the hash does not, so a version cannot go
stale silently. The hash is of the code's syntax tree without docstrings, so
comments, docstrings and formatting do not count.

When that test fails after you edited one of these files:
- the numbers changed (arithmetic, order of operations, a new record field):
  bump the group's version and set its hash (`python -m harness.numerics`
  prints both); every older entry of that group is then recomputed;
- the numbers did not change (a refactor, a new progress line): set the new
  hash and keep the version, so published records stay readable. Check first
  with tests/test_numerics.py's golden run, which trains a tiny run and
  compares it with the numbers recorded for this version.
"""
import ast
import hashlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# file: None (all of it) or the top-level functions / Class.method names that compute
# numbers (the rest of those files: descriptions, estimates, provenance, summaries)
FILES = {
    "train": {"engine.py": None, "model.py": None, "data.py": None, "geometry.py": None,
              "trainer.py": ("splits", "log_epoch", "train", "_epoch_batches", "final")},
    "grad": {"sampler.py": None, "tails.py": None,
             "gradients.py": ("GradSpec.compute", "GradSpec._reference_scales", "_Stats", "_rms",
                              "training_pool", "_trial_data", "specs", "gather")},
    # seeds trained together (--batched-seeds): the batched step and its loop; the
    # "train" group's code it shares (data, model, geometry, evaluate) keys it too
    "batched": {"batched.py": ("forward", "_dlogits", "grads", "sgd_step", "Adam",
                               "train_group")},
    "sharpness": {"sharpness.py": ("mlp_loss", "loss_hvp", "top_eigenvalue", "_ritz", "eval_points",
                                   "SharpnessSpec.compute")},
}
# group: (version, hash of FILES[group] when the version was set)
VERSIONS = {
    "train": (3, "685d97ecaa1dd0ee"),
    "grad": (4, "39c23832e79b0044"),
    "batched": (1, "65e917d84766d16b"),
    "sharpness": (1, "a6c6bae1f98a61c5"),
}


def version(group: str) -> int:
    return VERSIONS[group][0]


def _strip_docstrings(tree):
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


def _parts(tree, names):
    """The named top-level definitions (or Class.method) of a module's tree; all of it for None."""
    if names is None:
        return [tree]
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found[node.name] = node
            for sub in getattr(node, "body", []):
                if isinstance(node, ast.ClassDef) and isinstance(sub, ast.FunctionDef):
                    found[f"{node.name}.{sub.name}"] = sub
    missing = [n for n in names if n not in found]
    if missing:
        raise KeyError(f"harness/numerics.py hashes {missing}, which no longer exist: update FILES")
    return [found[n] for n in names]


def source_hash(group: str) -> str:
    """sha256 (16 hex digits) of the group's code, docstrings and comments left out."""
    h = hashlib.sha256()
    for name, names in FILES[group].items():
        tree = _strip_docstrings(ast.parse((HERE / name).read_text()))
        for part in _parts(tree, names):
            h.update(name.encode() + b"\0" + ast.dump(part, include_attributes=False).encode() + b"\0")
    return h.hexdigest()[:16]


def stale() -> list[str]:
    """One line per group whose source changed since its version was set."""
    out = []
    for group, (v, recorded) in VERSIONS.items():
        now = source_hash(group)
        if now != recorded:
            out.append(f"{group} numerics: {', '.join('harness/' + f for f in FILES[group])} changed since "
                       f"version {v} was set (hash {recorded}, now {now}). If the numbers changed, set "
                       f'VERSIONS["{group}"] = ({v + 1}, "{now}") in harness/numerics.py; if they did not '
                       f'(the golden run in tests/test_numerics.py passes), set ({v}, "{now}").')
    return out


if __name__ == "__main__":
    for g in FILES:
        print(f'"{g}": (version, "{source_hash(g)}")')
    print("\n".join(stale()) or "every numerics version matches its source")
