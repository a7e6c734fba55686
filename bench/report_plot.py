"""The PNG of bench/report.py: one panel per entry of "plots", grouped
bars (one colour per series, a missing figure leaves a gap) and each
category's target as a dashed line over its group; "log": true gives a
panel a logarithmic y axis. 800 x 450 pixels.
matplotlib from Debian (python3-matplotlib): see bench/README.md."""
import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402 (after the backend choice)
from matplotlib.patches import Patch  # noqa: E402

WIDTH_IN, HEIGHT_IN, DPI = 8, 4.5, 100
GROUP = 0.8  # share of a category's slot taken by its bars


def panel(ax, p):
    cats, series = p["categories"], p["series"]
    width = GROUP / len(series)
    # legend entries made here: a series without any figure draws no bar to take one from
    handles = [Patch(color=f"C{k}", label=s["label"]) for k, s in enumerate(series)]
    for k, s in enumerate(series):
        xs = [i - GROUP / 2 + width * (k + 0.5) for i in range(len(cats))]
        shown = [(x, v) for x, v in zip(xs, s["values"]) if v is not None]
        bars = ax.bar([x for x, _ in shown], [v for _, v in shown], width, color=f"C{k}")
        ax.bar_label(bars, fmt="%.4g", fontsize=7)
    if not any(v is not None for s in series for v in s["values"]):
        ax.text(0.5, 0.5, "no figure in this run", transform=ax.transAxes, ha="center")
    targets = [(i, t) for i, t in enumerate(p.get("targets") or []) if t is not None]
    for i, t in targets:
        line = ax.hlines(t, i - GROUP / 2, i + GROUP / 2, colors="crimson", linestyles="--",
                         label=p.get("target_label", "target"))
    if targets:
        handles.append(line)
    ax.set_xticks(range(len(cats)), cats, fontsize=8)
    ax.set_xlim(-0.5, len(cats) - 0.5)
    ax.set_ylabel(p["ylabel"], fontsize=8)
    ax.set_title(p["title"], fontsize=9)
    ax.tick_params(axis="y", labelsize=7)
    ax.margins(y=0.12)  # room above the tallest bar for its label and the legend
    if p.get("log"):  # figures orders of magnitude apart
        ax.set_yscale("log")
    ax.legend(handles=handles, fontsize=7)


def write_png(result, path):
    m = result["meta"]
    fig, axes = plt.subplots(1, len(result["plots"]), figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI,
                             squeeze=False)
    for ax, p in zip(axes[0], result["plots"]):
        panel(ax, p)
    fig.suptitle(f"bench/{result['name']}: {result['title']}", fontsize=10)
    footer = (f"{m['cpu']}, {m['cores']} CPUs, kernel {m['kernel']}, commit {m['commit']}"
              f"{' (dirty)' if m['dirty'] else ''}, {m['date']}")
    if m.get("note"):
        footer += f" | {m['note']}"
    fig.text(0.01, 0.01, footer, fontsize=6)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    # fixed size (no bbox "tight"); no version stamp in the file
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
