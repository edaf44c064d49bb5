"""batch-size-claims harness: data, model, trainer, run cache, statistics, report."""

__version__ = "0.1.0"

# The versions of the code that decides the numbers, part of every cache key,
# live in harness/numerics.py (checked against the source by tests/test_numerics.py).
