"""Figure helpers: mean line with a band over seeds, and atomic saving."""
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import atomic  # noqa: E402


def band(ax, x, ys, label=None, color=None, **kw):
    """Mean over seeds (rows of ys) as a line, min..max over seeds as a band.
    NaN entries (epochs that were not evaluated) are skipped."""
    ys = np.asarray(ys, float)
    x = np.asarray(x, float)
    keep = ~np.isnan(ys).any(axis=0)
    x, ys = x[keep], ys[:, keep]
    (line,) = ax.plot(x, ys.mean(0), label=f"{label} (n={len(ys)})" if label else None, color=color, **kw)
    if len(ys) > 1:
        ax.fill_between(x, ys.min(0), ys.max(0), color=line.get_color(), alpha=0.2, linewidth=0)
    return line


def figure(ncols=1, nrows=1, size=(5.0, 3.6)):
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False)
    return fig, axes.ravel()


def save(fig, report_dir, name: str) -> str:
    """Write report_dir/figures/name.png atomically; return the path relative to report_dir."""
    out = Path(report_dir) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=110)
        atomic.write_bytes(out / f"{name}.png", buf.getvalue())
    finally:
        plt.close(fig)
    return f"figures/{name}.png"
