"""The answer formats: a clarifying question, or a recommendation carrying one 【推荐】 JSON object.

A clarifying turn is plain text that asks about the missing slots and ends with "？"; it never holds
【推荐】. A recommendation cites retrieved candidates by ``id`` and copies their numbers::

    您好！【推荐】{"房源":[{"id":2,"总价":480,"首付":144,"月供":14348,"学区":"S5"}]}
    2号S5有钢琴课，步行6分到2号线。按首付30%、利率3.1%、30年等额本息算。学区政策会调整，请以教育局为准。

The JSON is the checkable part: the rules read only it (and the 教育局 note); the prose is for the
buyer and for the rubric.

>>> rec = parse_recommendation('【推荐】{"房源":[{"id":2,"总价":480,"首付":144,"月供":14348,"学区":"S5"}]}')
>>> rec["房源"][0]["月供"]
14348
>>> try:
...     parse_recommendation('【推荐】{"房源":[{"id":2,"总价":480}]}')
... except RecommendationError as error:
...     print(error)
房源 item 1 lacks 首付
"""

from __future__ import annotations

from core_training.authoring import compact_json, is_int, json_after

TAG = "【推荐】"
ITEM_KEYS = ("id", "总价", "首付", "月供", "学区")
INT_KEYS = ("id", "总价", "首付", "月供")


class RecommendationError(ValueError):
    """The 【推荐】 JSON is missing, unparsable or malformed; the message says which."""


def has_recommendation(text: str) -> bool:
    return TAG in text


def is_question(text: str) -> bool:
    """Whether the turn ends with a question mark (full- or half-width)."""
    return text.rstrip().endswith(("？", "?"))


def parse_recommendation(text: str) -> dict:
    """The JSON object right after 【推荐】, validated. Raises RecommendationError with the reason."""
    data = json_after(text, "推荐", RecommendationError)
    if not isinstance(data, dict) or not isinstance(data.get("房源"), list):
        raise RecommendationError("推荐 JSON lacks a 房源 list")
    for number, item in enumerate(data["房源"], start=1):
        if not isinstance(item, dict):
            raise RecommendationError(f"房源 item {number} is not an object")
        missing = [key for key in ITEM_KEYS if key not in item]
        if missing:
            raise RecommendationError(f"房源 item {number} lacks {missing[0]}")
        wrong = [key for key in INT_KEYS if not is_int(item[key])]
        if wrong or not isinstance(item["学区"], str):
            raise RecommendationError(f"房源 item {number}: {(wrong or ['学区'])[0]} has the wrong type")
    return data


def recommendation_json(items: list[dict]) -> str:
    """Compact JSON (no spaces, Chinese kept) for a list of 房源 items."""
    return compact_json({"房源": items})


def item_for(candidate: dict) -> dict:
    """The 房源 item citing one retrieved candidate."""
    return {"id": candidate["id"], "总价": candidate["total"], "首付": candidate["down"],
            "月供": candidate["monthly"], "学区": candidate["school"]}


def resolve(item: dict, candidates: list[dict]) -> dict | None:
    """The retrieved candidate an item cites by id, or None."""
    wanted = item.get("id")
    for candidate in candidates:  # a plain loop: the rules resolve every item of every turn
        if candidate["id"] == wanted:
            return candidate
    return None
