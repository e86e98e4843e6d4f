"""The draw (O6, O7): RFC 3797's own worked example, and our stratified draw's promises held
on generated inputs: the same inputs give the same seats and waiting list; any change to the
pool, the quotas or the value changes the commitment or the result; no seat goes to an
unverified registrant; no quota is exceeded."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from machines import lottery

# RFC 3797 section 6: the pool of 25 volunteers, in the order listed
RFC_POOL = ("John", "Mary", "Bashful", "Dopey", "Sleepy", "Grouchy", "Doc", "Sneazy",
            "Handsome", "Cassandra", "Pollyanna", "Pendragon", "Pandora", "Faith", "Hope",
            "Charity", "Lee", "Longsuffering", "Chastity", "Smith", "Pride", "Sloth", "Envy",
            "Anger", "Kasczynski")
RFC_SOURCES = ("9319", "2 5 12 8 10", "9 18 26 34 41 45")


def test_o7_rfc3797_worked_example():
    """O7: RFC 3797 section 6 — the key string, the first digests and the ten selected."""
    found = lottery.rfc3797(RFC_POOL, RFC_SOURCES, 10)
    assert found["key"] == "9319./2.5.8.10.12./9.18.26.34.41.45./"
    assert [s["md5"].upper() for s in found["steps"][:3]] == [
        "990DD0A5692A029A98B5E01AA28F3459", "3691E55CB63FCC37914430B2F70B5EC6",
        "FE814EDF564C190AC1D25753979990FA"]
    assert [s["index"] for s in found["steps"][:3]] == [17, 7, 2]
    assert found["selected"] == ["Lee", "Doc", "Mary", "Charity", "Kasczynski", "Envy",
                                 "Sneazy", "Anger", "Chastity", "Pandora"]


def test_o7_sources_are_canonical_as_rfc3797_says():
    assert lottery.canonical_source("09 18，026") == "9.18.26./"
    assert lottery.canonical_source("3245.67 12") == "12.3245.67/"
    assert lottery.canonical_source("Mažňák") == "MAZNAK/"
    with pytest.raises(lottery.DrawError):
        lottery.canonical_source("——")


def test_o7_a_public_source_and_witness_commitments():
    secret = "  大雁塔 7431 bright-river  "
    assert lottery.commitment(secret) == lottery.commitment(secret.strip())
    record = lottery.make_record(
        [{"id": "BM-1", "category": "农村"}], [{"category": "农村", "seats": 1}],
        {"kind": "witnesses", "commitments": [{"witness": "甲", "sha256":
                                               lottery.commitment(secret)}]})
    assert lottery.witness_problems(record, [secret]) == []
    assert lottery.witness_problems(record, ["another secret"])


# -- generated draws --------------------------------------------------------------------------

CATEGORIES = ("机关", "企业", "农村", "社区")


@st.composite
def draws(draw):
    categories = draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=4,
                               unique=True))
    quotas = [{"category": c, "seats": draw(st.integers(0, 4))} for c in categories]
    n = draw(st.integers(0, 14))
    pool = [{"id": f"BM-2026-{i:06d}", "category": draw(st.sampled_from(categories)),
             "verified": draw(st.booleans())} for i in range(1, n + 1)]
    value = " ".join(str(v) for v in draw(st.lists(st.integers(1, 99), min_size=1,
                                                   max_size=6)))
    unfilled = draw(st.sampled_from(lottery.UNFILLED_RULES))
    return pool, quotas, value, unfilled


def _bundle(pool, quotas, value, unfilled):
    verified = [p for p in pool if p["verified"]]
    record = lottery.make_record(verified, quotas, {"kind": "public", "name": "双色球"},
                                 unfilled)
    return lottery.draw(record, [value])


@settings(max_examples=150, deadline=None)
@given(draws())
def test_o7_same_inputs_same_seats_and_list_and_it_verifies(case):
    first, again = _bundle(*case), _bundle(*copy.deepcopy(case))
    assert first == again
    assert lottery.verify(first) == []


@settings(max_examples=150, deadline=None)
@given(draws())
def test_o6_no_seat_to_an_unverified_registrant_and_quotas_never_exceeded(case):
    pool, quotas, _value, unfilled = case
    result = _bundle(*case)["result"]
    verified = {p["id"] for p in pool if p["verified"]}
    seated = [s["id"] for s in result["seats"]]
    assert set(seated) <= verified
    assert len(seated) == len(set(seated))
    assert set(seated).isdisjoint(result["waiting_list"])
    assert set(seated) | set(result["waiting_list"]) == verified, "nobody lost"
    for quota in quotas:
        given_seats = [s for s in result["seats"] if s["category"] == quota["category"]]
        assert len(given_seats) <= quota["seats"]
        by_quota = [s for s in given_seats if s["via"] == "quota"]
        assert all(s["member_category"] == quota["category"] for s in by_quota)
    if unfilled == lottery.LEFT_EMPTY:
        assert all(s["via"] == "quota" for s in result["seats"])


@settings(max_examples=150, deadline=None)
@given(draws(), st.data())
def test_o7_any_change_to_pool_quotas_or_value_changes_commitment_or_result(case, data):
    pool, quotas, value, unfilled = case
    base = _bundle(*case)
    change = data.draw(st.sampled_from(("pool", "quotas", "value")))
    if change == "pool":
        pool = [*pool, {"id": "BM-2026-999999", "category": quotas[0]["category"],
                        "verified": True}]
    elif change == "quotas":
        quotas = [dict(quotas[0], seats=quotas[0]["seats"] + 1), *quotas[1:]]
    else:
        value = f"{value} 7"
    changed = _bundle(pool, quotas, value, unfilled)
    assert (changed["commitment"], changed["key"], changed["steps"], changed["result"]) != (
        base["commitment"], base["key"], base["steps"], base["result"])
    if change != "value":
        assert changed["commitment"] != base["commitment"]


def test_o7_a_tampered_bundle_does_not_verify():
    pool = [{"id": f"BM-2026-{i:06d}", "category": CATEGORIES[i % 2], "verified": True}
            for i in range(1, 9)]
    bundle = _bundle(pool, [{"category": "机关", "seats": 2}, {"category": "企业", "seats": 1}],
                     "3 14 15 92 65", lottery.TO_WAITING_LIST)
    assert lottery.verify(bundle) == []
    swapped = copy.deepcopy(bundle)
    swapped["result"]["seats"][0]["id"] = swapped["result"]["waiting_list"][0]
    assert any("result" in p for p in lottery.verify(swapped))
    repooled = copy.deepcopy(bundle)
    repooled["record"]["pool"].pop()
    assert any("commitment" in p for p in lottery.verify(repooled))
    assert lottery.verify({"format": "x"})


def test_o6_o7_a_short_category_is_reported_and_its_seat_goes_to_the_waiting_list():
    pool = [{"id": "BM-1", "category": "机关"}, {"id": "BM-2", "category": "机关"},
            {"id": "BM-3", "category": "机关"}, {"id": "BM-4", "category": "农村"}]
    quotas = [{"category": "机关", "seats": 1}, {"category": "农村", "seats": 2}]
    record = lottery.make_record(pool, quotas, {"kind": "public", "name": "x"})
    assert lottery.short_categories(record) == [{"category": "农村", "seats": 2, "verified": 1}]
    result = lottery.draw(record, ["5 6 7"])["result"]
    assert [s["via"] for s in result["seats"]] == ["quota", "quota", "waiting_list"]
    assert result["seats"][2]["category"] == "农村"
    assert result["seats"][2]["member_category"] == "机关"
    assert len(result["waiting_list"]) == 1 and result["empty"] == []
    strict = lottery.draw(lottery.make_record(pool, quotas, {"kind": "public", "name": "x"},
                                              lottery.LEFT_EMPTY), ["5 6 7"])["result"]
    assert strict["empty"] == [{"category": "农村", "seats": 1}]
    assert len(strict["waiting_list"]) == 2


def test_o7_records_the_algorithm_cannot_run_on_are_refused():
    with pytest.raises(lottery.DrawError):
        lottery.make_record([{"id": "A", "category": "x"}], [{"category": "y", "seats": 1}],
                            {"kind": "public"})
    record = lottery.make_record([], [{"category": "y", "seats": 1}], {"kind": "public"})
    with pytest.raises(lottery.DrawError):
        lottery.draw(record | {"algorithm": "gongkai-stratified-99"}, ["1"])
    with pytest.raises(lottery.DrawError):
        lottery.draw(record, [])
