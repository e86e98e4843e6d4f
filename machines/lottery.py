"""The seat draw (O6, O7): RFC 3797's selection and our stratified draw, pure and re-runnable.

Nothing here reads a database, a clock or a random generator: the same published inputs
always give the same seats and the same waiting list, so anyone can re-run a draw from its
bundle (``gongkai lottery verify``, the result page's script ``web/static/lottery.js``).
docs/lottery.md specifies both algorithms precisely enough to reimplement them.

- **RFC 3797** (section 4): the random sources become one *key string*; selection ``j``
  (from 0) hashes the key with MD5, prefixed and suffixed by ``j`` as two bytes big-endian;
  the 128-bit digest, as an unsigned big-endian integer, modulo the number of candidates
  still in the pool gives the (0-based) position of the one selected, who leaves the pool.
- **gongkai-stratified-1** (ours, O6/O7): one key string and one running counter; first the
  seats of each category in the order the quotas list them, each drawn from that category's
  verified registrants; then everyone left, drawn one by one, is the ordered waiting list;
  a seat a category cannot fill goes *(default)* to the waiting list in draw order.

Each algorithm version stays here, unchanged, for as long as a bundle names it.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

RFC3797 = "rfc3797"
STRATIFIED_1 = "gongkai-stratified-1"
ALGORITHMS = (STRATIFIED_1,)
FORMAT = "gongkai-draw"

#: unfilled seats: to the waiting list in draw order (default, O7) or left empty
TO_WAITING_LIST = "waiting_list"
LEFT_EMPTY = "empty"
UNFILLED_RULES = (TO_WAITING_LIST, LEFT_EMPTY)

#: the counter is two bytes (RFC 3797 section 4): at most this many selections per key
MAX_SELECTIONS = 1 << 16

_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_SEPARATORS = re.compile(r"[\s,，、;；]+")


class DrawError(ValueError):
    """Inputs a draw cannot run on (an unsorted pool, an unknown algorithm, no key)."""


# -- RFC 3797 ----------------------------------------------------------------------------------


def _number_text(token: str) -> str:
    """A number without leading zeros (RFC 3797 section 4): an integer is followed by a
    period, a decimal keeps the period between its whole and fractional parts."""
    whole, _, fraction = token.partition(".")
    whole = whole.lstrip("0") or "0"
    return f"{whole}.{fraction}" if fraction else f"{whole}."


def canonical_source(value: str) -> str:
    """One random source as it enters the key string, ``/`` included.

    Numbers (separated by spaces or commas) are sorted into increasing order, each written
    without leading zeros, an integer followed by a period: ``"2 5 12 8 10"`` gives
    ``"2.5.8.10.12./"``. Any other text keeps only its letters and digits, upper-cased
    after compatibility decomposition (``"Mažňák"`` gives ``"MAZNAK/"``)."""
    tokens = [t for t in _SEPARATORS.split(value.strip()) if t]
    if tokens and all(_NUMBER.match(t) for t in tokens):
        numbers = sorted(tokens, key=Decimal)
        return "".join(_number_text(t) for t in numbers) + "/"
    text = unicodedata.normalize("NFKD", value).upper()
    kept = "".join(ch for ch in text if ch.isascii() and ch.isalnum())
    if not kept:
        raise DrawError(f"随机源没有可用的数字或字母：{value!r} / a random source with no "
                        f"digits or letters: {value!r}")
    return kept + "/"


def key_string(sources: Iterable[str]) -> str:
    """RFC 3797 section 4: the canonical sources concatenated in the order published."""
    parts = [canonical_source(s) for s in sources]
    if not parts:
        raise DrawError("至少需要一个随机源 / at least one random source is needed")
    return "".join(parts)


def digest(key: str, counter: int) -> str:
    """MD5 of the key between two copies of the counter (two bytes, big-endian), in hex."""
    if not 0 <= counter < MAX_SELECTIONS:
        raise DrawError(f"超过 {MAX_SELECTIONS} 次抽取 / more than {MAX_SELECTIONS} selections")
    pad = counter.to_bytes(2, "big")
    return hashlib.md5(pad + key.encode("utf-8") + pad).hexdigest()


def pick(key: str, counter: int, remaining: int) -> tuple[str, int]:
    """Selection ``counter`` among ``remaining`` candidates: the digest and the 0-based
    position of the one selected (the digest modulo ``remaining``)."""
    value = digest(key, counter)
    return value, int(value, 16) % remaining


def rfc3797(pool: Sequence[str], sources: Iterable[str], count: int) -> dict[str, Any]:
    """RFC 3797's selection of ``count`` candidates from ``pool`` (in the order given):
    ``{"key", "selected", "steps"}``."""
    key = key_string(sources)
    if count < 0 or count > len(pool):
        raise DrawError(f"不能从 {len(pool)} 人中选出 {count} 人 / cannot select {count} of "
                        f"{len(pool)}")
    left = list(pool)
    steps = []
    for counter in range(count):
        value, index = pick(key, counter, len(left))
        steps.append({"n": counter, "remaining": len(left), "md5": value,
                      "index": index + 1, "selected": left[index]})
        left.pop(index)
    return {"key": key, "selected": [s["selected"] for s in steps], "steps": steps}


# -- commitments -------------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """RFC 8785 for what a draw holds (strings, integers, lists, objects with ASCII keys):
    sorted keys, no spaces, UTF-8 text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def commitment(secret: str) -> str:
    """O7: what a witness publishes before the pool: the SHA-256 of the secret (UTF-8, with
    leading and trailing white space removed), in lower-case hex."""
    return sha256_text(secret.strip())


def record_commitment(record: Mapping[str, Any]) -> str:
    """The SHA-256 of the committed record's canonical JSON: published with the record, so
    any later change to the pool, the quotas or the source shows."""
    return sha256_text(canonical_json(record))


# -- the stratified draw ------------------------------------------------------------------------


def make_record(pool: Iterable[Mapping[str, str]], quotas: Iterable[Mapping[str, Any]],
                source: Mapping[str, Any], unfilled: str = TO_WAITING_LIST,
                algorithm: str = STRATIFIED_1) -> dict[str, Any]:
    """O7: the record committed before the random value is known: the verified pool by
    registration number and category (sorted by number), the quotas in their order, what
    happens to seats a category cannot fill, the algorithm and the named source."""
    record = {
        "algorithm": algorithm,
        "pool": sorted(({"id": p["id"], "category": p["category"]} for p in pool),
                       key=lambda p: p["id"]),
        "quotas": [{"category": q["category"], "seats": q["seats"]} for q in quotas],
        "unfilled": unfilled,
        "source": dict(source),
    }
    check_record(record)
    return record


def check_record(record: Mapping[str, Any]) -> None:
    """Refuse a record the algorithm cannot run on, with a reason a person can act on."""
    if record.get("algorithm") not in ALGORITHMS:
        raise DrawError(f"未知的算法版本：{record.get('algorithm')} / unknown algorithm")
    ids = [p["id"] for p in record["pool"]]
    if ids != sorted(ids) or len(set(ids)) != len(ids):
        raise DrawError("候选名单须按登记号升序且不重复 / the pool must be sorted by id, "
                        "without repeats")
    categories = [q["category"] for q in record["quotas"]]
    if len(set(categories)) != len(categories):
        raise DrawError("同一类别不能有两个名额 / a category may have one quota only")
    if any(not isinstance(q["seats"], int) or q["seats"] < 0 for q in record["quotas"]):
        raise DrawError("名额应为非负整数 / seats must be whole numbers, 0 or more")
    stray = sorted({p["category"] for p in record["pool"]} - set(categories))
    if stray:
        raise DrawError(f"这些类别没有名额：{'、'.join(stray)} / categories without a quota")
    if record.get("unfilled") not in UNFILLED_RULES:
        raise DrawError("未知的空缺名额规则 / unknown rule for unfilled seats")
    if len(ids) > MAX_SELECTIONS:
        raise DrawError(f"候选人超过 {MAX_SELECTIONS} 人 / more than {MAX_SELECTIONS} "
                        "candidates")


def short_categories(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """O6, O7: categories with fewer verified registrants than seats, reported before the
    draw: ``[{"category", "seats", "verified"}]`` in quota order."""
    counts: dict[str, int] = {}
    for p in record["pool"]:
        counts[p["category"]] = counts.get(p["category"], 0) + 1
    return [{"category": q["category"], "seats": q["seats"],
             "verified": counts.get(q["category"], 0)}
            for q in record["quotas"] if counts.get(q["category"], 0) < q["seats"]]


def draw(record: Mapping[str, Any], sources: Sequence[str]) -> dict[str, Any]:
    """Run gongkai-stratified-1 on a committed record and the published source values: the
    whole bundle (record, commitment, sources, key, every selection and the result)."""
    check_record(record)
    key = key_string(sources)
    steps: list[dict[str, Any]] = []

    def select(stage: str, category: str | None, left: list[str]) -> str:
        value, index = pick(key, len(steps), len(left))
        chosen = left.pop(index)
        steps.append({"n": len(steps), "stage": stage, "category": category,
                      "remaining": len(left) + 1, "md5": value, "index": index + 1,
                      "selected": chosen})
        return chosen

    category_of = {p["id"]: p["category"] for p in record["pool"]}
    seats: list[dict[str, Any]] = []
    unfilled: list[str] = []
    for quota in record["quotas"]:
        left = [p["id"] for p in record["pool"] if p["category"] == quota["category"]]
        for _ in range(quota["seats"]):
            if not left:
                unfilled.append(quota["category"])
                continue
            chosen = select("seat", quota["category"], left)
            seats.append({"id": chosen, "category": quota["category"],
                          "member_category": quota["category"], "via": "quota"})
    seated = {s["id"] for s in seats}
    left = [p["id"] for p in record["pool"] if p["id"] not in seated]
    waiting = [select("waiting", None, left) for _ in range(len(left))]
    empty: list[str] = []
    for category in unfilled:
        if record["unfilled"] == TO_WAITING_LIST and waiting:
            chosen = waiting.pop(0)
            seats.append({"id": chosen, "category": category,
                          "member_category": category_of[chosen], "via": "waiting_list"})
        else:
            empty.append(category)
    result = {"seats": seats, "waiting_list": waiting,
              "empty": [{"category": c, "seats": empty.count(c)}
                        for c in dict.fromkeys(empty)],
              "short": short_categories(record)}
    return {"format": FORMAT, "algorithm": record["algorithm"], "record": dict(record),
            "commitment": record_commitment(record), "sources": list(sources), "key": key,
            "steps": steps, "result": result}


def witness_problems(record: Mapping[str, Any], sources: Sequence[str]) -> list[str]:
    """O7: with witnesses, each revealed secret must match the commitment published before
    the pool, in the same order; an empty list when they all do."""
    source = record.get("source") or {}
    if source.get("kind") != "witnesses":
        return []
    committed = [c["sha256"] for c in source.get("commitments", [])]
    if len(committed) != len(sources):
        return [f"承诺 {len(committed)} 个、揭示 {len(sources)} 个秘密 / {len(committed)} "
                f"commitments but {len(sources)} secrets revealed"]
    return [f"第 {n} 位见证人的秘密与其承诺不符 / witness {n}'s secret does not match the "
            f"commitment" for n, (secret, sha) in enumerate(zip(sources, committed,
                                                                strict=True), start=1)
            if commitment(secret) != sha]


def verify(bundle: Mapping[str, Any]) -> list[str]:
    """Re-run a published draw from its bundle alone: the problems found (bilingual), none
    when the published result follows from the published inputs."""
    problems: list[str] = []
    try:
        record, sources = bundle["record"], bundle["sources"]
        if bundle.get("format") != FORMAT:
            problems.append(f"不是抽签包 / not a draw bundle (format {bundle.get('format')!r})")
        if record_commitment(record) != bundle.get("commitment"):
            problems.append("公布的记录与其承诺值不符 / the record does not match its commitment")
        problems += witness_problems(record, sources)
        again = draw(record, sources)
    except (KeyError, TypeError, AttributeError) as exc:
        return problems + [f"抽签包不完整 / incomplete bundle: {exc}"]
    except DrawError as exc:
        return problems + [str(exc)]
    for name in ("algorithm", "key", "steps", "result"):
        if again[name] != bundle.get(name):
            problems.append(f"重算的 {name} 与公布的不同 / the recomputed {name} differs "
                            "from the published one")
    return problems
