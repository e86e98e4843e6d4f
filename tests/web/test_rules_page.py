"""The rule catalogue shipped in the repository (docs/rules.md) as a page, and the links
from every rule ID a page shows to its rule there (issue 22)."""

from __future__ import annotations

from web import rules


def test_the_rules_page_lists_every_rule_with_its_id_as_anchor(client):
    response = client.get("/rules")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    ids = [rule.id for section in rules.catalogue() for rule in section.rules]
    assert len(ids) > 40 and {"G1", "A1", "AU1", "V4"} <= set(ids)
    assert all(f'<dt id="{rule}">{rule}</dt>' in page for rule in ids)
    assert "<em>(default)</em>" in page, "the catalogue's emphasis is kept"
    assert page.count("<h1>") == 1


def test_rule_ids_link_to_their_rule_and_unknown_ones_stay_text(app):
    with app.test_request_context():
        assert str(rules.rule_links(["A1", "G15"])) == (
            '<a class="rule" href="/rules#A1">A1</a> <a class="rule" href="/rules#G15">G15</a>')
        assert str(rules.rule_links("P6 X99")) == (
            '<a class="rule" href="/rules#P6">P6</a> X99')


def test_parse_reads_sections_rows_and_inline_markup():
    text = ('## G — every disclosure\n\n| ID | rule | source |\n|---|---|---|\n'
            '| <a id="G1"></a>G1 | scope, *(default)* `x` <b> | 002 |\n')
    [section] = rules.parse(text)
    assert section.title == "G — every disclosure"
    [rule] = section.rules
    assert (rule.id, rule.source) == ("G1", "002")
    assert str(rule.text) == "scope, <em>(default)</em> <code>x</code> &lt;b&gt;"
