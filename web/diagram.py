"""The process diagram, drawn on the server with Graphviz (works offline).

Falls back to None when the ``dot`` program is missing; the page then shows the
transition table instead.
"""

from __future__ import annotations

import shutil

import graphviz

from workflow.core.registry import Compiled

_cache: dict[tuple[str, int, str, str], str | None] = {}


def diagram_svg(compiled: Compiled, current: str, lang: str) -> str | None:
    key = (compiled.kind, compiled.version, current, lang)
    if key not in _cache:
        _cache[key] = _draw(compiled, current, lang) if shutil.which("dot") else None
    return _cache[key]


def _draw(compiled: Compiled, current: str, lang: str) -> str:
    graph = graphviz.Digraph(graph_attr={"rankdir": "TB", "bgcolor": "transparent",
                                         "nodesep": "0.25", "ranksep": "0.35",
                                         "fontname": "Noto Sans CJK SC"},
                             node_attr={"shape": "box", "style": "rounded,filled",
                                        "fontname": "Noto Sans CJK SC", "fontsize": "11",
                                        "fillcolor": "#ffffff", "color": "#8a8f98"},
                             edge_attr={"fontname": "Noto Sans CJK SC", "fontsize": "9",
                                        "color": "#8a8f98"})
    for state in compiled.process.states:
        attrs = {"peripheries": "2"} if state.final else {}
        if state.name == current:
            attrs |= {"fillcolor": "#c0392b", "fontcolor": "#ffffff", "color": "#c0392b"}
        graph.node(state.name, state.label.get(lang), **attrs)
    seen = set()
    for (src, name), arrows in compiled.arrows.items():
        for arrow in arrows:
            dest = arrow.dest or src
            if arrow.append_only or (src, dest, name) in seen:
                continue
            seen.add((src, dest, name))
            graph.edge(src, dest, arrow.label.get(lang))
    svg = graph.pipe(format="svg").decode("utf-8")
    return svg[svg.index("<svg"):]
