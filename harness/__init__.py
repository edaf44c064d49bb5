"""batch-size-claims harness: data, model, trainer, run cache, statistics, report."""

__version__ = "0.1.0"

# Bump when a change to the harness changes what a cached run would contain:
# it is part of every cache key, so old entries are simply never read again.
HARNESS_VERSION = "2"
