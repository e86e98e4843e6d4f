"""V4's numbers: every boundary of the quorum and passing rules, and property tests against a
plain reading of V4 with fractions (以上 includes the number, 过半数 does not)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from machines import quorum

HALF, TWO_THIRDS = Fraction(1, 2), Fraction(2, 3)
counts = st.integers(min_value=1, max_value=5000)


# -- the boundaries the issue names ---------------------------------------------------------


def test_v4_party_meeting_exactly_half_present_counts():
    assert quorum.party_meeting_quorate(30, 15)
    assert not quorum.party_meeting_quorate(30, 14)
    assert quorum.party_meeting_quorate(31, 16) and not quorum.party_meeting_quorate(31, 15)


def test_v4_party_meeting_exactly_half_of_all_members_in_favour_does_not_pass():
    assert not quorum.party_meeting_passes(30, 15)
    assert quorum.party_meeting_passes(30, 16)
    assert not quorum.party_meeting_passes(31, 15) and quorum.party_meeting_passes(31, 16)


def test_v4_party_meeting_passes_on_all_members_not_on_those_present():
    """V4: 20 of 40 present, all 20 in favour: every one present, yet not more than half of
    all members with a vote."""
    verdict = quorum.party_meeting(40, 20, 20)
    assert verdict.valid and verdict.passed is False


def test_v4_exactly_two_thirds_of_households_counts():
    assert quorum.villagers_meeting_quorate(None, 200, 300, 200)
    assert not quorum.villagers_meeting_quorate(None, 199, 300, 199)
    assert quorum.villagers_meeting_quorate(None, 67, 100, 67)
    assert not quorum.villagers_meeting_quorate(None, 66, 100, 66)


def test_v4_exactly_half_of_eligible_villagers_present_does_not_count():
    assert not quorum.villagers_meeting_quorate(600, 300, None, None)
    assert quorum.villagers_meeting_quorate(600, 301, None, None)
    assert not quorum.villagers_meeting_quorate(601, 300, None, None)
    assert quorum.villagers_meeting_quorate(601, 301, None, None)


def test_v4_either_way_of_counting_the_villagers_meeting_is_enough():
    assert quorum.villagers_meeting_quorate(600, 250, 300, 200)  # households carry it
    assert quorum.villagers_meeting_quorate(600, 301, 300, 150)  # head count carries it
    assert not quorum.villagers_meeting_quorate(600, 250, 300, 150)


def test_v4_representatives_meeting_exactly_two_thirds_counts():
    assert quorum.representatives_meeting_quorate(36, 24)
    assert not quorum.representatives_meeting_quorate(36, 23)
    assert quorum.representatives_meeting_quorate(35, 24)
    assert not quorum.representatives_meeting_quorate(35, 23)


def test_v4_villagers_vote_passes_with_more_than_half_of_those_present():
    assert not quorum.villagers_vote_passes(30, 15)
    assert quorum.villagers_vote_passes(30, 16)
    assert quorum.villagers_vote_passes(31, 16) and not quorum.villagers_vote_passes(31, 15)


def test_v4_nobody_entitled_means_no_meeting():
    assert not quorum.party_meeting_quorate(0, 0)
    assert not quorum.representatives_meeting_quorate(0, 0)
    assert not quorum.villagers_meeting_quorate(0, 0, 0, 0)
    assert not quorum.villagers_meeting_quorate(None, 0, None, None)


# -- verdicts name the rule and the counts ------------------------------------------------------


def test_v4_verdict_text_names_the_rule_and_the_counts():
    verdict = quorum.party_meeting(30, 15, 15)
    assert verdict.text.zh == ("应到 30 人，实到 15 人，达到半数，会议有效；赞成 15 人，"
                               "未超过全体有表决权党员的半数，未通过（V4）")
    assert verdict.text.en.endswith("(V4)") and "15 in favour" in verdict.text.en


def test_v4_invalid_meeting_verdict_gives_the_reason_and_no_vote():
    verdict = quorum.party_meeting(42, 19, 19)
    assert (verdict.valid, verdict.passed) == (False, None)
    assert verdict.text.zh == "应到 42 人，实到 19 人，未达到半数，会议无效（V4）"
    villagers = quorum.villagers_meeting(600, 300, 300, 150, 290)
    assert not villagers.valid
    assert "到会 300 人，未超过半数" in villagers.text.zh and "未达到三分之二" in villagers.text.zh
    representatives = quorum.representatives_meeting(36, 24, 13)
    assert representatives.valid and representatives.passed
    assert "达到三分之二" in representatives.text.zh and "通过" in representatives.text.zh


# -- property tests against a plain reading of V4 -----------------------------------------------


@st.composite
def part_of(draw, whole=counts):
    total = draw(whole)
    return draw(st.integers(min_value=0, max_value=total)), total


@given(part_of())
def test_v4_at_least_half_includes_half(pair):
    part, whole = pair
    assert quorum.at_least_half(part, whole) == (Fraction(part, whole) >= HALF)


@given(part_of())
def test_v4_more_than_half_excludes_half(pair):
    part, whole = pair
    assert quorum.more_than_half(part, whole) == (Fraction(part, whole) > HALF)


@given(part_of())
def test_v4_at_least_two_thirds_includes_two_thirds(pair):
    part, whole = pair
    assert quorum.at_least_two_thirds(part, whole) == (Fraction(part, whole) >= TWO_THIRDS)


@given(part_of(), st.data())
def test_v4_party_meeting_against_the_reading(pair, data):
    present, members = pair
    in_favour = data.draw(st.integers(min_value=0, max_value=present))
    verdict = quorum.party_meeting(members, present, in_favour)
    assert verdict.valid == (Fraction(present, members) >= HALF)
    if verdict.valid:
        assert verdict.passed == (Fraction(in_favour, members) > HALF)
    else:
        assert verdict.passed is None


@given(st.one_of(st.none(), counts), st.integers(min_value=0, max_value=5000),
       st.one_of(st.none(), counts), st.data())
def test_v4_villagers_meeting_against_the_reading(eligible, present, households, data):
    if eligible is not None:
        present = min(present, eligible)
    represented = None
    if households is not None:
        represented = data.draw(st.integers(min_value=0, max_value=households))
    in_favour = data.draw(st.integers(min_value=0, max_value=present))
    verdict = quorum.villagers_meeting(eligible, present, households, represented, in_favour)
    by_head = eligible is not None and Fraction(present, eligible) > HALF
    by_household = households is not None and Fraction(represented, households) >= TWO_THIRDS
    assert verdict.valid == (by_head or by_household)
    if verdict.valid:
        assert verdict.passed == (present > 0 and Fraction(in_favour, present) > HALF)


@given(part_of(), st.data())
def test_v4_representatives_meeting_against_the_reading(pair, data):
    present, members = pair
    in_favour = data.draw(st.integers(min_value=0, max_value=present))
    verdict = quorum.representatives_meeting(members, present, in_favour)
    assert verdict.valid == (Fraction(present, members) >= TWO_THIRDS)
    if verdict.valid:
        assert verdict.passed == (Fraction(in_favour, present) > HALF)
