"""Rule IDs cited in the code exist in RULES.md, and the rules no test cites are listed.

Code and tests cite the rule catalogue by ID: docs/rules.md, the repository's copy of the
team's catalogue (../shared/RULES.md, next to the repository), which it must equal:
in ``rules=`` of triggers, states and processes, in docstrings and comments, and in test
names (``test_g4_…``). A cited ID that the catalogue does not have is a typo or a rule
that was renamed; a rule no test cites is a rule nothing shows to be kept. Run with
``-rs`` to see that list: ``test_every_rule_is_cited_by_a_test`` reports it as its skip
reason until every rule is tested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "rules.md"
SHARED = ROOT.parent / "shared" / "RULES.md"
CITING = ("machines", "workflow", "tests")

_ROW = re.compile(r'^\| (?:<a id="\w+"></a>)?([A-Z]+\d+) \|', re.MULTILINE)


def catalogue(text: str) -> list[str]:
    """The rule IDs RULES.md declares, in its order (one table row each)."""
    return _ROW.findall(text)


def citations(text: str, prefixes: Iterable[str]) -> set[str]:
    """The rule IDs a source text cites: ``G4`` anywhere, ``g4`` as a word of a test name."""
    alternatives = "|".join(sorted(prefixes, key=len, reverse=True))
    upper = re.findall(rf"\b(?:{alternatives})\d+\b", text)
    lower = [word.upper() for name in re.findall(r"\bdef (test_\w+)", text)
             for word in name.split("_")
             if re.fullmatch(rf"(?:{alternatives.lower()})\d+", word)]
    return set(upper) | set(lower)


def cited_in(folders: Iterable[str], prefixes: Iterable[str]) -> dict[str, set[str]]:
    """Every rule ID cited under ``folders`` (Python files), with the files citing it; not
    this file, whose examples cite nothing."""
    prefixes = tuple(prefixes)
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == Path(__file__).resolve():
                continue
            for rule in citations(path.read_text(encoding="utf-8"), prefixes):
                found.setdefault(rule, set()).add(str(path.relative_to(ROOT)))
    return found


def untested(rules: list[str], in_code: set[str], in_tests: set[str]) -> dict[str, list[str]]:
    """The rules no test cites: those the code implements first (a test is owed), then
    those nothing implements yet (processes still to come)."""
    missing = [r for r in rules if r not in in_tests]
    return {"implemented": [r for r in missing if r in in_code],
            "not implemented": [r for r in missing if r not in in_code]}


@pytest.fixture(scope="module")
def rules() -> list[str]:
    return catalogue(RULES.read_text(encoding="utf-8"))


def rows(text: str) -> list[str]:
    """The catalogue's table rows, anchors taken out."""
    return [re.sub(r'<a id="\w+"></a>', "", line) for line in text.splitlines()
            if _ROW.match(line)]


def test_docs_rules_md_is_the_team_catalogue_with_an_anchor_per_id():
    text = RULES.read_text(encoding="utf-8")
    ids = catalogue(text)
    assert ids and all(f'<a id="{rule}"></a>{rule}' in text for rule in ids)
    if not SHARED.is_file():
        pytest.skip(f"no team catalogue at {SHARED} to compare docs/rules.md with")
    assert rows(text) == rows(SHARED.read_text(encoding="utf-8")), (
        "docs/rules.md differs from the team's RULES.md: copy the changed rows over")


def _prefixes(rules: list[str]) -> set[str]:
    return {re.sub(r"\d+$", "", r) for r in rules}


def test_the_helpers_read_ids_as_the_catalogue_and_the_code_write_them():
    table = ('| ID | rule |\n|---|---|\n| G1 | scope |\n| <a id="AU2"></a>AU2 | replay |\n'
             "| G12 | channels |\n")
    assert catalogue(table) == ["G1", "AU2", "G12"]
    source = ('rules=("G1", "AU2")  # G12, not XG1 nor G1x\n'
              "def test_g4_r5_opinions(): ...\ndef test_signal(): ...\n")
    assert citations(source, {"G", "AU", "R"}) == {"G1", "AU2", "G12", "G4", "R5"}
    assert untested(["G1", "G2", "G3"], {"G1", "G2"}, {"G1"}) == {
        "implemented": ["G2"], "not implemented": ["G3"]}


def test_every_cited_rule_exists_in_the_catalogue(rules):
    unknown = {rule: sorted(files) for rule, files in
               cited_in(CITING, _prefixes(rules)).items() if rule not in rules}
    assert unknown == {}, f"cited but not in {RULES.name}: {unknown}"


def test_every_rule_is_cited_by_a_test(rules):
    prefixes = _prefixes(rules)
    owed = untested(rules, set(cited_in(("machines", "workflow"), prefixes)),
                    set(cited_in(("tests",), prefixes)))
    if any(owed.values()):
        pytest.skip("no test cites " + "; ".join(
            f"{kind}: {' '.join(ids)}" for kind, ids in owed.items() if ids))
