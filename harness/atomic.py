"""Atomic file writes: a reader (or a crash, even kill -9) never sees half a file.

The content goes to a temp file `.<name>.<random>.tmp` in the target's own
folder (so the rename stays on one file system), is flushed and fsynced, made
readable by others sharing the folder (0644; mkstemp creates 0600), and renamed
over the target with os.replace. On any failure, Ctrl-C included, the temp file
is removed and the error propagates; the target is then left as it was.
"""
import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def replacing(path):
    """A binary file object whose content replaces `path` when the block ends
    without an error (for content streamed in pieces, e.g. gunzip)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path, data: bytes):
    """Replace `path` with `data`, atomically."""
    with replacing(path) as f:
        f.write(data)


def write_text(path, text: str):
    """Replace `path` with `text` (UTF-8), atomically."""
    write_bytes(path, text.encode("utf-8"))
