"""CPT corpus: short Chinese texts about 小区, listings, schools, metro and mortgages, plus broker know-how.

Train texts describe 杭州 (the train-pool city) and eval texts 苏州 (the eval-pool city), matching the
eval-set hold-out; worked mortgage examples (computed by :mod:`verticals.realestate.mortgage`) fill
both splits from separate seeded streams.

>>> corpus = load_cpt_corpus()
>>> len(corpus["train"]), len(corpus["eval"]), max(len(t) for t in corpus["train"] + corpus["eval"]) <= 200
(1800, 200, True)
"""

from __future__ import annotations

import random
from functools import lru_cache

from verticals.realestate.kg import pool_cities, realestate_index
from verticals.realestate.mortgage import MortgageTerms, format_rate, monthly_payment, payment_for

CORPUS_SEED = 11
SIZES = {"train": 1800, "eval": 200}
SPLIT_POOL = {"train": "train", "eval": "eval"}  # the cities of each pool: 杭州 / 苏州 in the generated graph
KNOW_HOW = (
    "等额本息是每月还款额相同的还款方式：月供=贷款本金×月利率×(1+月利率)^月数÷((1+月利率)^月数-1)。",
    "月利率等于年利率除以12，还款月数等于贷款年限乘以12。",
    "等额本息前期还的多是利息，后期还的多是本金；等额本金则每月还的本金相同，月供逐月递减。",
    "首付比例越高，贷款本金越少，月供和总利息也越少。",
    "首付按总价乘以首付比例计算，向上取整到万元，剩下的部分才是贷款本金。",
    "贷款年限越长，月供越低，但总利息越多。",
    "学区房要看学校划片：同一条街的两个小区可能对应不同的小学。",
    "学区划片政策每年可能调整，买学区房前一定要向当地教育局核实。",
    "应试型学校看重升学成绩，素质教育型学校开设钢琴、舞蹈、机器人、游泳等特色课程。",
    "买房先问清需求：预算多少、孩子看重应试还是素质教育、有什么特长、通勤靠近哪条地铁线。",
    "需求不明确时，经纪人应先提问，而不是急着推荐房源。",
    "推荐房源时要说明理由：学区是否符合、离地铁多远、总价是否在预算内。",
    "超出预算的房源即使条件再好，也不应推荐给客户。",
    "地铁换乘站附近的小区通勤更方便，步行十五分钟以内比较理想。",
    "推荐房源不能以民族、籍贯、宗教等理由引导客户，这是公平居住的基本要求。",
    "重点学校的学区房总价往往更高，普通学校可能在素质课程上更有特色。",
    "二手房交易要核实产权、学位占用情况和户口迁出情况。",
    "贷款利率可能随市场调整，实际以银行审批为准。",
)


@lru_cache(maxsize=1)
def load_cpt_corpus() -> dict[str, list[str]]:
    """``{"train": [...], "eval": [...]}``: graph descriptions first, then worked mortgage examples."""
    out = {}
    for offset, (split, pool) in enumerate(SPLIT_POOL.items()):
        rng = random.Random(CORPUS_SEED + offset)
        texts = [t for city in pool_cities(pool) for t in _graph_texts(city, rng)]
        texts += list(KNOW_HOW) if split == "train" else []
        while len(texts) < SIZES[split]:
            texts.append(_worked_example(rng))
        out[split] = texts[: SIZES[split]]
    return out


def _graph_texts(city: str, rng: random.Random) -> list[str]:
    index = realestate_index()
    texts = []
    for xid, x in index.xiaoqu.items():
        if x["city"] != city or xid in index.left_out:  # no 小学/初中/station in reach (imported graphs)
            continue
        primary, middle = index.school_of(xid, "小学"), index.school_of(xid, "初中")
        texts.append(f"{x['name']}（{xid}）位于{city}{x['district']}{x['bankuai']}板块，{x['year_built']}年建成，"
                     f"均价{x['avg_price']}元/平，绿化率{x['green_ratio']}%。")
        texts.append(f"{x['name']}的学区：小学为{primary['name']}（{primary['code']}），初中为{middle['name']}（{middle['code']}）。")
        for sid, walk in index.near[xid]:
            station = index.stations[sid]
            texts.append(f"从{x['name']}步行{walk}分钟到地铁{station['name']}站（{sid}，{_lines(station)}）。")
    for listing in index.listings_in(city):
        texts += _listing_texts(listing, rng)
    for school in index.schools.values():
        if school["city"] == city:
            offers = "、".join(school["activities"]) or "无特色课程"
            texts.append(f"{school['name']}（{school['code']}）是{city}的{school['key']}{school['level']}，"
                         f"升学排名第{school['exam_rank']}，素质课程：{offers}。")
    for sid, station in index.stations.items():
        if station["city"] == city:
            transfer = "，是换乘站" if station["transfer"] else ""
            texts.append(f"地铁{station['name']}站（{sid}）属于{_lines(station)}{transfer}。")
    return texts


def _lines(station: dict) -> str:
    return "/".join(map(str, station["lines"])) + "号线"


def _listing_texts(listing: dict, rng: random.Random) -> list[str]:
    index = realestate_index()
    x = index.xiaoqu[listing["xiaoqu"]]
    layout = f"{listing['rooms']}室{listing['halls']}厅{listing['baths']}卫"
    elevator = "有电梯" if listing["elevator"] else "无电梯"
    unit = round(listing["total_price"] * 10000 / listing["area"])
    terms = MortgageTerms(rng.choice((20, 30, 30, 35, 40)), rng.choice((3.1, 3.1, 2.85, 3.5)), rng.choice((20, 25, 30)))
    down, monthly = payment_for(listing["total_price"], terms)
    floor = listing["floor"] if listing["floor"] is not None else f"{listing.get('floor_band') or '未知'}楼层"
    floors = f"{floor}/{listing['total_floors']}层" if listing["total_floors"] else f"{floor}层"
    return [
        f"{x['name']}{layout}，{listing['area']}平，{floors}，"
        f"{listing['orientation']}，{listing['renovation']}，{elevator}，总价{listing['total_price']}万，单价约{unit}元/平。",
        f"房源{listing['code']}总价{listing['total_price']}万，按{terms.describe()}，首付{down}万，"
        f"贷款{listing['total_price'] - down}万，月供{monthly}元。",
    ]


def _worked_example(rng: random.Random) -> str:
    loan = rng.randrange(50, 800)
    rate = rng.choice((2.6, 2.85, 3.0, 3.1, 3.3, 3.5, 3.95, 4.2, 4.9))
    years = rng.choice((10, 15, 20, 25, 30))
    monthly = monthly_payment(loan * 10000, rate, years)
    interest = round((monthly * 12 * years - loan * 10000) / 10000, 1)
    return (f"贷款{loan}万，年利率{format_rate(rate)}%，{years}年等额本息，"
            f"每月还款{monthly}元，总利息约{interest}万元。")
