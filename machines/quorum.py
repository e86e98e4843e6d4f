"""V4: whether a meeting counted and whether its vote passed, from its numbers alone.

In Chinese legal usage 以上 includes the number itself and 过半数 / 超过半数 does not
(RULES.md V4). The three thresholds are written once, in whole numbers (no fractions, no
floats: 2·n ≥ total is "at least half"), and each meeting's rule is one line on top of
them. ``tests/machines/test_quorum.py`` holds every boundary and checks these against a
plain reading of V4 with fractions.

Each meeting also has its verdict as text naming the rule and the counts (the case page
shows it): "应到 30 人，实到 15 人，达到半数，会议有效；赞成 15 人，未超过全体有表决权党员
的半数，未通过（V4）".
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.core.declare import Text as T

# -- the three thresholds ------------------------------------------------------------------


def at_least_half(part: int, whole: int) -> bool:
    """V4 半数以上: half or more, half itself included."""
    return 2 * part >= whole


def more_than_half(part: int, whole: int) -> bool:
    """V4 过半数 / 超过半数: strictly more than half, half itself not."""
    return 2 * part > whole


def at_least_two_thirds(part: int, whole: int) -> bool:
    """V4 三分之二以上: two-thirds or more, two-thirds itself included."""
    return 3 * part >= 2 * whole


# -- the meetings --------------------------------------------------------------------------


def party_meeting_quorate(members_with_vote: int, present: int) -> bool:
    """V4: a Party member meeting counts when at least half of the members with voting
    rights are present."""
    return members_with_vote > 0 and at_least_half(present, members_with_vote)


def party_meeting_passes(members_with_vote: int, in_favour: int) -> bool:
    """V4: it passes with more than half of ALL members with voting rights, not of those
    present."""
    return more_than_half(in_favour, members_with_vote)


def villagers_meeting_quorate(eligible: int | None, present: int, households: int | None,
                              households_present: int | None) -> bool:
    """V4: a villagers' meeting counts with more than half of the villagers aged 18 and over
    present, or with representatives of at least two-thirds of the households."""
    by_villagers = bool(eligible) and more_than_half(present, eligible or 0)
    by_households = bool(households) and at_least_two_thirds(households_present or 0,
                                                             households or 0)
    return by_villagers or by_households


def representatives_meeting_quorate(representatives: int, present: int) -> bool:
    """V4: a villager representatives' meeting counts with at least two-thirds of its
    members present."""
    return representatives > 0 and at_least_two_thirds(present, representatives)


def villagers_vote_passes(present: int, in_favour: int) -> bool:
    """V4: either villagers' meeting passes with more than half of those present."""
    return more_than_half(in_favour, present)


# -- verdicts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """A meeting's outcome: counted or not (``valid``), passed or not (None when it did not
    count), and the sentence that says so with the rule and the counts."""

    valid: bool
    passed: bool | None
    text: T


def _vote(in_favour: int, passed: bool, of: T) -> T:
    return T(f"赞成 {in_favour} 人，{'超过' if passed else '未超过'}{of.zh}的半数，"
             f"{'通过' if passed else '未通过'}",
             f"{in_favour} in favour: {'more' if passed else 'not more'} than half of "
             f"{of.en}, {'passed' if passed else 'not passed'}")


def _verdict(quorum: T, valid: bool, passed: bool, in_favour: int, of: T) -> Verdict:
    """The verdict once the quorum's sentence is written: a meeting that did not count
    has no vote to report."""
    if not valid:
        return Verdict(False, None, _join(quorum, False, None))
    return Verdict(True, passed, _join(quorum, True, _vote(in_favour, passed, of)))


def _join(quorum: T, valid: bool, vote: T | None) -> T:
    zh = f"{quorum.zh}，会议{'有效' if valid else '无效'}"
    en = f"{quorum.en}: the meeting {'counts' if valid else 'does not count'}"
    if vote is not None:
        zh, en = f"{zh}；{vote.zh}", f"{en}; {vote.en}"
    return T(f"{zh}（V4）", f"{en} (V4)")


def party_meeting(members_with_vote: int, present: int, in_favour: int) -> Verdict:
    """V4: the Party member meeting's verdict."""
    valid = party_meeting_quorate(members_with_vote, present)
    quorum = T(f"应到 {members_with_vote} 人，实到 {present} 人，"
               f"{'达到' if valid else '未达到'}半数",
               f"{members_with_vote} members with a vote, {present} present: "
               f"{'at least' if valid else 'less than'} half")
    return _verdict(quorum, valid, party_meeting_passes(members_with_vote, in_favour),
                    in_favour, T("全体有表决权党员", "all members with a vote"))


def villagers_meeting(eligible: int | None, present: int, households: int | None,
                      households_present: int | None, in_favour: int) -> Verdict:
    """V4: the villagers' meeting's verdict, by head count or by households."""
    by_villagers = bool(eligible) and more_than_half(present, eligible or 0)
    valid = villagers_meeting_quorate(eligible, present, households, households_present)
    parts = []
    if eligible:
        parts.append(T(f"18 周岁以上村民 {eligible} 人，到会 {present} 人，"
                       f"{'超过' if by_villagers else '未超过'}半数",
                       f"{eligible} villagers aged 18 and over, {present} present: "
                       f"{'more' if by_villagers else 'not more'} than half"))
    if households:
        by_households = at_least_two_thirds(households_present or 0, households)
        parts.append(T(f"全村 {households} 户，{households_present or 0} 户的代表到会，"
                       f"{'达到' if by_households else '未达到'}三分之二",
                       f"{households} households, {households_present or 0} represented: "
                       f"{'at least' if by_households else 'less than'} two-thirds"))
    quorum = T("；".join(p.zh for p in parts), "; ".join(p.en for p in parts))
    return _verdict(quorum, valid, villagers_vote_passes(present, in_favour), in_favour,
                    T(f"到会 {present} 人", f"the {present} present"))


def representatives_meeting(representatives: int, present: int, in_favour: int) -> Verdict:
    """V4: the villager representatives' meeting's verdict."""
    valid = representatives_meeting_quorate(representatives, present)
    quorum = T(f"村民代表应到 {representatives} 人，实到 {present} 人，"
               f"{'达到' if valid else '未达到'}三分之二",
               f"{representatives} representatives, {present} present: "
               f"{'at least' if valid else 'less than'} two-thirds")
    return _verdict(quorum, valid, villagers_vote_passes(present, in_favour), in_favour,
                    T(f"到会 {present} 人", f"the {present} present"))
