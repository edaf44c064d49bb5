"""Errors a user can act on. Each message names the problem and the fix."""


class HarnessError(Exception):
    """Base class: conftest turns these into pytest usage errors (no traceback)."""


class DataError(HarnessError):
    """The dataset is missing, unreadable or corrupt."""


class ConfigError(HarnessError):
    """A run configuration or option is invalid."""
