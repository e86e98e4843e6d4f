"""Charts for the statistics desk (G14), drawn on the server as SVG by matplotlib.

No script runs in the browser: the page embeds the SVG, whose text stays text
(``svg.fonttype = 'none'``) in a CJK font family the browser picks from the page's own
fonts, and the same numbers stand beside it as a table for screen readers and print.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402  (after the backend is chosen)

FONTS = ["Noto Sans CJK SC", "Noto Serif CJK SC", "sans-serif"]
STYLE = {"svg.fonttype": "none", "font.family": FONTS, "font.size": 10,
         "svg.hashsalt": "gongkai"}


def _svg(figure: Figure) -> str:
    out = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "gongkai"}):
        figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg"):]


def _figure() -> Figure:
    with matplotlib.rc_context(STYLE):
        return Figure(figsize=(6.4, 3.0))


def trend(months: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
          title: str) -> str:
    """Lines by month, one per series (label, values)."""
    with matplotlib.rc_context(STYLE):
        figure = _figure()
        axes = figure.add_subplot()
        positions = range(len(months))
        for label, values in series:
            axes.plot(positions, list(values), marker="o", markersize=3, label=label)
        step = max(1, len(months) // 8)
        axes.set_xticks(list(positions)[::step], list(months)[::step])
        axes.set_title(title)
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.set_ylim(bottom=0)
        axes.grid(axis="y", alpha=0.3)
        if series:
            axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2,
                        frameon=False, fontsize=8)
        figure.autofmt_xdate()
        return _svg(figure)


def distribution(histogram: Sequence[tuple[int, int]], title: str, xlabel: str,
                 ylabel: str) -> str:
    """Bars: how many cases took each number of working days."""
    with matplotlib.rc_context(STYLE):
        figure = _figure()
        axes = figure.add_subplot()
        axes.bar([d for d, _n in histogram], [n for _d, n in histogram], width=0.8)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.set_title(title)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.grid(axis="y", alpha=0.3)
        return _svg(figure)
