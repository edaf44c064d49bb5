"""Figures the claims draw: each shows the quantity its reading judges, laid
out like the post's figure where the post has one."""
import numpy as np

from harness import plots
from harness.trainer import series

COLORS = ("tab:orange", "tab:blue", "tab:purple", "tab:green", "gold", "darkgoldenrod")


def _label(k):
    return f"BS{k}" if isinstance(k, int) else str(k)


def accuracy_curves(ctx, runs: dict, title: str, name: str, scaling: str, last_epochs: int | None = None):
    """Train and test accuracy per epoch, one band (min..max over seeds) per arm.
    The y axes are zoomed on the last two thirds of training, where the post's
    2-3 point gaps live (a 0-100 axis hides them). last_epochs: show only the
    last epochs of each arm, aligned at their end (the post's F3 plot)."""
    fig, axes = plots.figure(2, 1)
    for ax, key in zip(axes, ("train_acc", "test_acc")):
        lows, highs = [], []
        for (arm, rs), color in zip(runs.items(), COLORS):
            x, ys = series(rs, key)
            x, ys = np.asarray(x, float), 100 * np.asarray(ys, float)
            if last_epochs is not None:
                keep = x >= x[-1] - last_epochs
                x, ys = x[keep] - (x[-1] - last_epochs), ys[:, keep]
            plots.band(ax, x, ys, _label(arm), color)
            tail = ys[:, x >= x[0] + (x[-1] - x[0]) / 3]
            tail = tail[~np.isnan(tail)]
            if tail.size:
                lows.append(tail.min())
                highs.append(tail.max())
        if lows:
            pad = 0.05 * max(1.0, max(highs) - min(lows))
            ax.set_ylim(min(lows) - pad, min(100.0, max(highs) + pad) + pad)
        ax.set(xlabel="epoch" if last_epochs is None else f"epoch (last {last_epochs})",
               ylabel=key.replace("_acc", " accuracy [%]"))
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    fig.suptitle(f"{title} ({scaling} inputs, {ctx.scale.name} scale; band = min..max over seeds)", fontsize=9)
    return plots.save(fig, ctx.report_dir, f"{name}_{scaling}")


# -- the gradient experiment (F4-F7) -------------------------------------------------
# Every reading of a gradient module shows the same figure: it is drawn once per
# report directory (and per xdist worker), the first time a reading asks for it.
import pytest  # noqa: E402

from harness import gradients, verdicts  # noqa: E402
from harness.claim import uses  # noqa: E402

REGIMES = ("early", "late")
GRAD_BS = np.asarray(gradients.BATCH_SIZES, float)
_DRAWN = {}


def drawn_once(ctx, name, draw):
    """report_dir/figures/name.png drawn by draw() -> fig on the first
    call for this report directory; the path relative to report_dir."""
    key = (str(ctx.report_dir), name)
    if key not in _DRAWN:
        _DRAWN[key] = plots.save(draw(), ctx.report_dir, name)
    return _DRAWN[key]


def per_reading_and_regime(test):
    """Declare the gradient runs of a test (@uses) and parametrize it by
    `variant` (gradients.READINGS) and `regime`: reading ids "sum-early", ..."""
    for mark in (pytest.mark.parametrize("variant", gradients.READINGS), pytest.mark.parametrize("regime", REGIMES),
                 uses(gradients.required)):
        test = mark(test)
    return test


def trend_verdict(trials, statistic, x, rule, detail="", sign=+1, log=False):
    """The least-squares slope on x of statistic(trials) (one value per batch
    size; its log when log=True), with a 90% bootstrap interval over trials
    (the rows), above 0 (sign +1) or below 0 (sign -1). Returns (verdict, slope)."""
    def fit(a):
        s = statistic(a)
        return verdicts.slope(x, np.log(s) if log else s)

    est, ci = verdicts.bootstrap_rows(fit, trials)
    test = verdicts.greater if sign > 0 else verdicts.less
    return test(est, ci, 0.0, n=f"{len(trials)} trials x {len(x)} batch sizes",
                rule=f"{rule} (90% bootstrap CI over trials)", detail=detail), est


def gradient_norms(ctx, ex):
    """F4: mean norm per batch size, one panel per reading, sqrt(BS) guides."""
    def draw():
        fig, axes = plots.figure(3, 2)
        for ax in axes[len(gradients.READINGS):]:
            ax.set_axis_off()
        for ax, reading in zip(axes, gradients.READINGS):
            for regime, color in zip(REGIMES, ("tab:blue", "tab:green")):
                n = ex[regime]["norms"][reading]
                m, s = n.mean(0), n.std(0, ddof=1)
                ax.errorbar(GRAD_BS, m, yerr=s, fmt="o-", ms=3, capsize=2, color=color,
                            label=f"{regime} (n={len(n)})")
                ax.plot(GRAD_BS, m[-1] * np.sqrt(GRAD_BS / GRAD_BS[-1]), ":", color=color, lw=1)
            ax.set(xscale="log", yscale="log", xlabel="batch size", ylabel="|W3 gradient| (the reading's)",
                   title=f"reading '{reading}' (dotted: sqrt(BS) through BS1024)")
            ax.legend(fontsize=8)
        fig.suptitle(f"F4: mean gradient norm vs batch size, error bars = std over trials ({ctx.scale.name} scale)")
        return fig
    return drawn_once(ctx, "f4_gradient_norm", draw)


def norm_variation(ctx, ex, cv):
    """F5: the post's normalised mean +- std, and cv(norms) for every reading."""
    def draw():
        fig, axes = plots.figure(2, 1)
        for regime, color in zip(REGIMES, ("tab:blue", "tab:green")):
            n = ex[regime]["norms"]["sum"]
            m, s = n.mean(0), n.std(0, ddof=1)
            k = m[-1] / m
            axes[0].errorbar(GRAD_BS * (1.06 if regime == "late" else 1.0), m * k, yerr=s * k, fmt="o", ms=3,
                             capsize=2, color=color, label=f"{regime} (n={len(n)})")
            for reading, ls in zip(gradients.READINGS, ("-", "--", ":", "-.", (0, (1, 3)))):
                axes[1].plot(GRAD_BS, cv(ex[regime]["norms"][reading]), linestyle=ls, marker="o", ms=2, color=color,
                             label=f"{regime}, {reading}")
        axes[0].set(xscale="log", xlabel="batch size", ylabel="norm x mu_1024/mu_BS",
                    title="normalised mean +- normalised std ('sum')")
        axes[1].set(xscale="log", yscale="log", xlabel="batch size", ylabel="CV = std / mean of trial norms",
                    title="coefficient of variation, all readings")
        axes[0].legend(fontsize=8)
        axes[1].legend(fontsize=7, ncol=2)
        fig.suptitle(f"F5: spread of the step size at equal mean ({ctx.scale.name} scale)")
        return fig
    return drawn_once(ctx, "f5_norm_variation", draw)


def norm_distribution(ctx, ex):
    """F6: ridgeline of the normalised trial norms, 100 x (norm / mean - 1) at
    each batch size ('sum' reading), one row per batch size, one panel per
    regime. The spread is a few percent (interdecile range, printed on the
    right of each row), so the bins are fine and fitted to the data: a shared
    axis over the regime's range, bins a sixth of the narrowest row's
    interdecile range wide (at most 120 bins)."""
    def draw():
        fig, axes = plots.figure(2, 1, size=(5.5, 6.0))
        bss = gradients.BATCH_SIZES
        for ax, regime, color in zip(axes, REGIMES, ("tab:purple", "tab:blue")):
            n = ex[regime]["norms"]["sum"]
            z = 100 * (n / n.mean(0) - 1.0)  # = norm x mu_1024/mu_i relative to mu_1024, in percent
            q10, q90 = np.quantile(z, [0.1, 0.9], axis=0)
            lim = 1.02 * float(np.abs(z).max())
            nbins = int(np.clip(np.ceil(2 * lim / max(float((q90 - q10).min()) / 6, 1e-9)), 20, 120))
            edges = np.linspace(-lim, lim, nbins + 1)
            for j, B in enumerate(bss):
                h, _ = np.histogram(z[:, j], edges)
                h = h / max(1, h.max()) * 0.9
                ax.stairs(j + h, edges, baseline=j, fill=True, color=color, alpha=0.6, lw=0)
                ax.stairs(j + h, edges, baseline=j, color="k", lw=0.4)
                ax.text(1.01, j + 0.2, f"{q90[j] - q10[j]:.2g}%", transform=ax.get_yaxis_transform(), fontsize=6)
            ax.axvline(0.0, color="k", lw=0.5, ls=":")
            ax.set_xlim(-lim, lim)
            ax.set_yticks(range(len(bss)), [str(b) for b in bss], fontsize=7)
            ax.set(xlabel=f"trial norm / mean norm at its BS - 1 [%] ({nbins} bins)", ylabel="batch size",
                   title=f"{regime} regime, reading 'sum' (n={len(n)} per row; right: q90 - q10)")
        fig.suptitle(f"F6: normalised norm distributions per batch size ({ctx.scale.name} scale)")
        return fig
    return drawn_once(ctx, "f6_norm_distribution", draw)


def gradient_values(ctx, ex, readings):
    """F7: histograms of |gradient value| / s_ref, one curve per batch size,
    one panel per regime and reading."""
    def draw():
        fig, axes = plots.figure(2, 2)
        bss = gradients.BATCH_SIZES
        cmap = plots.plt.get_cmap("viridis")
        for ax, (regime, reading) in zip(axes, [(g, r) for g in REGIMES for r in readings]):
            d = ex[regime]
            edges = d["hist_edges"]
            centres = 10 ** ((edges[:-1] + edges[1:]) / 2)
            for j, B in enumerate(bss):
                h = d["hist"][reading][j][1:-1].astype(float)  # drop under/overflow bins
                h[h == 0] = np.nan
                ax.plot(centres, h, color=cmap(j / (len(bss) - 1)), lw=0.8, label=f"BS{B}" if j % 2 == 0 else None)
            ax.axvline(gradients.ABS_C, color="r", ls=":", lw=1)
            ax.set(xscale="log", yscale="log", xlabel="|gradient value| / s_ref", ylabel="count (all trials)",
                   title=f"{regime}, reading '{reading}' (red: {gradients.ABS_C:g} s_ref)")
        axes[0].legend(fontsize=6, ncol=2)
        fig.suptitle(f"F7: histograms of the 10240 last-layer gradient values per batch size, "
                     f"{len(ex['early']['trials'])} trials ({ctx.scale.name} scale)")
        return fig
    return drawn_once(ctx, "f7_gradient_values", draw)


def signed_ridgeline(ctx, ex, reading="sum"):
    """F7 as the post draws it: per batch size (one ridge each, BS1 at the
    bottom), the histogram of the signed gradient values, not normalised, on a
    log count scale; x is asinh(g / s_ref): linear near 0, logarithmic in the
    tails, so both the centre and the tail of every ridge are visible."""
    def draw():
        fig, axes = plots.figure(2, 1, size=(5.0, 6.5))
        bss = gradients.BATCH_SIZES
        for ax, regime, color in zip(axes, REGIMES, ("tab:orange", "tab:cyan")):
            d = ex[regime]
            edges = np.asarray(d["signed_edges"], float)
            counts = np.asarray(d["hist_signed"][reading], float)[:, 1:-1]  # drop under/overflow
            top = np.log10(counts.max() + 1)
            for j in range(len(bss)):
                h = np.log10(counts[j] + 1) / top * 1.8
                ax.fill_between(edges[:-1], j, j + h, step="post", color=color, alpha=0.5, lw=0)
                ax.plot(edges[:-1], j + h, drawstyle="steps-post", color="k", lw=0.4)
            ax.axvline(np.arcsinh(gradients.ABS_C), color="r", ls=":", lw=1)
            ax.axvline(-np.arcsinh(gradients.ABS_C), color="r", ls=":", lw=1)
            ax.set_yticks(range(len(bss)), [str(b) for b in bss], fontsize=7)
            ax.set(xlabel="asinh(gradient value / s_ref)", ylabel="batch size (ridge height: log10 count)",
                   title=f"{regime}, reading '{reading}', {len(d['trials'])} trials x 10240 values "
                         f"(red: +-{gradients.ABS_C:g} s_ref)")
        fig.suptitle(f"F7: signed last-layer gradient values per batch size ({ctx.scale.name} scale)", fontsize=9)
        return fig
    return drawn_once(ctx, f"f7_signed_values_{reading}", draw)


# -- the distance claims (F8, F12, fidelity) -------------------------------------
def grid_heatmap(ctx, cells: dict, rows, cols, title: str, name: str, scaling: str):
    """The post's table of the BS x lr grid as a heat map: rows batch size,
    columns learning rate, colour = mean test accuracy, each cell annotated
    W / B / A (means over seeds). cells: (bs, lr) -> {"W": [...], "B": [...], "A": [...]}."""
    acc = np.array([[np.mean(cells[r, c]["A"]) for c in cols] for r in rows])
    fig, axes = plots.figure(1, 1, size=(5.0, 3.8))
    ax = axes[0]
    im = ax.imshow(acc, cmap="viridis", aspect="auto")
    mid = (np.nanmin(acc) + np.nanmax(acc)) / 2
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            m = cells[r, c]
            ax.text(j, i, f"W {np.mean(m['W']):.3g}\nB {np.mean(m['B']):.3g}\nA {np.mean(m['A']):.1f}%",
                    ha="center", va="center", fontsize=8, color="white" if acc[i, j] < mid else "black")
    ax.set_xticks(range(len(cols)), [f"{c:g}" for c in cols])
    ax.set_yticks(range(len(rows)), [_label(r) for r in rows])
    ax.set(xlabel="learning rate", ylabel="batch size")
    fig.colorbar(im, ax=ax, label="test accuracy [%]")
    fig.suptitle(f"{title}: W / B / A per cell, colour = test accuracy\n({scaling} inputs, {ctx.scale.name} "
                 f"scale, mean over seeds)", fontsize=9)
    return plots.save(fig, ctx.report_dir, f"{name}_{scaling}")


def finish_bands(ctx, fig, axes, title: str, name: str, scaling: str):
    """Legends on every panel, the title with the inputs, the scale and what
    the bands mean; saved as name_scaling (F10's and F11's distance curves)."""
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle(f"{title} ({scaling} inputs, {ctx.scale.name} scale; band = min..max over seeds)")
    return plots.save(fig, ctx.report_dir, f"{name}_{scaling}")
