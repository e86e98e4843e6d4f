"""The rule catalogue as a page (``/rules``, each ID an anchor) and the ``rule_links`` filter
that links every rule ID a page shows there (issue 22).

The catalogue is ``docs/rules.md`` in the repository, read once: its ``## …`` headings and
its table rows ``| ID | rule | source |``. The page shows the rules as written (they are in
English with the Chinese terms of the sources), with ``*…*`` and ``` `…` ``` kept as
emphasis and code.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, abort, render_template, url_for
from markupsafe import Markup, escape

CATALOGUE = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
_ROW = re.compile(r'^\| (?:<a id="\w+"></a>)?([A-Z]+\d+) \| (.*) \| (.*) \|$')
_RULE_ID = re.compile(r"\b[A-Z]{1,2}\d{1,2}\b")

bp = Blueprint("rules", __name__)


@dataclass(frozen=True)
class Rule:
    id: str
    text: Markup
    source: str


@dataclass(frozen=True)
class Section:
    title: str
    rules: tuple[Rule, ...]


def _inline(text: str) -> Markup:
    """The table cell's Markdown emphasis and code as HTML; everything else escaped."""
    html = str(escape(text))
    html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
    html = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", html)
    return Markup(re.sub(r"\*([^*]+)\*", r"<em>\1</em>", html))


def parse(text: str) -> list[Section]:
    """The catalogue's sections with their rules, in the file's order."""
    sections: list[Section] = []
    title, rules = None, []
    for line in text.splitlines():
        if line.startswith("## "):
            if title is not None:
                sections.append(Section(title, tuple(rules)))
            title, rules = line[3:].strip(), []
        elif (row := _ROW.match(line)) and title is not None:
            rules.append(Rule(row[1], _inline(row[2]), row[3]))
    if title is not None:
        sections.append(Section(title, tuple(rules)))
    return sections


@functools.cache
def catalogue() -> tuple[Section, ...]:
    return tuple(parse(CATALOGUE.read_text(encoding="utf-8"))) if CATALOGUE.is_file() else ()


def known_ids() -> frozenset[str]:
    return frozenset(rule.id for section in catalogue() for rule in section.rules)


def rule_links(ids: str | list[str] | tuple[str, ...]) -> Markup:
    """Rule IDs (``["A1", "G15"]`` or ``"P6 P7"``) as links to their rule on ``/rules``;
    an ID the catalogue lacks stays plain text."""
    found = ids.split() if isinstance(ids, str) else list(ids)
    known = known_ids()
    return Markup(" ").join(
        Markup('<a class="rule" href="{}">{}</a>').format(
            url_for("rules.index", _anchor=rule), rule) if rule in known else escape(rule)
        for rule in found)


@bp.get("/rules")
def index():
    sections = catalogue()
    if not sections:
        abort(404)
    return render_template("rules.html", sections=sections)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.filters["rule_links"] = rule_links
