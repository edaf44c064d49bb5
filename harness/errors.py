"""Errors a user can act on. Each message names the problem and the fix."""


class HarnessError(Exception):
    """Base class: conftest turns these into pytest usage errors (no traceback)."""


class DataError(HarnessError):
    """The dataset is missing, unreadable or corrupt."""


class ConfigError(HarnessError):
    """A run configuration or option is invalid."""


class NotAtThisScale(Exception):
    """Not an error: a claim's run declaration says this reading does not run at
    the session's scale (the message says why, and where it does run). The
    plugin skips the reading at collection with that message."""
