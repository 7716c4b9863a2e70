"""Question writers: a sampled intent (a trim and its 项, a pair of trims, a budget and needs) in one of
several wordings, the way people type them into a car app.

Each writer returns ``(text, intent)``; :mod:`verticals.auto.data` keeps a question only when the
retriever reads the intent back from the text (so every dataset question is one the app understands).

>>> import random
>>> from verticals.auto.kg import auto_index
>>> text, intent = spec_question(random.Random(3), ["trim:T004"])
>>> intent["trims"], "星驰逐风" in text or "逐风" in text
(['trim:T004'], True)
"""

from __future__ import annotations

import random

from verticals.auto.kg import auto_index
from verticals.auto.vocab import param_values

SPEC_TEMPLATES = ("{car}的{item}是多少？", "请问{car}{item}多少？", "{car}，{item}多少", "想了解一下{car}的{item}。",
                  "查一下{car}的{item}", "{car} {item}是多少", "{car}{item}怎么样？")
SPEC_TWO_TEMPLATES = ("{car}的{item}和{item2}分别是多少？", "{car}{item}、{item2}各是多少", "请问{car}的{item}和{item2}")
HP_TEMPLATES = ("{car}有多少马力？", "{car}的马力是多少？", "{car}几匹马力")
ITEM_PHRASES = {
    "最大功率": ("最大功率", "功率"), "最大扭矩": ("最大扭矩", "扭矩"), "0-100": ("百公里加速", "零百加速", "0-100加速"),
    "油耗": ("油耗", "百公里油耗"), "续航": ("续航", "续航里程", "CLTC续航"), "指导价": ("指导价", "官方指导价", "价格"),
    "排量": ("排量",), "变速箱": ("变速箱",), "长宽高": ("长宽高", "车身尺寸"), "轴距": ("轴距",),
    "整备质量": ("整备质量", "车重"), "座位": ("座位数",), "驱动": ("驱动方式",),
}
ITEM_WEIGHTS = {"最大功率": 4, "0-100": 4, "指导价": 4, "最大扭矩": 3, "油耗": 3, "续航": 3, "轴距": 2, "整备质量": 2,
                "座位": 1, "长宽高": 1, "变速箱": 1, "驱动": 1, "排量": 1}
COMPARE_TEMPLATES = ("{a}和{b}哪个{p}？", "{a}跟{b}比，哪个{p}？", "{a}还是{b}，谁{p}？", "{a} vs {b}，哪个{p}",
                     "{a}对比{b}，哪台{p}？", "{a}与{b}，哪款{p}？")
COMPARE_TWO_TEMPLATES = ("{a}和{b}，哪个{p}？哪个{p2}？", "{a}与{b}相比，谁{p}、谁{p2}？")
DIRECTION_PHRASES = {
    ("0-100", "lower"): ("加速更快", "零百加速更快"), ("最大功率", "higher"): ("动力更强", "功率更大"),
    ("最大扭矩", "higher"): ("扭矩更大",), ("油耗", "lower"): ("更省油", "油耗更低"),
    ("续航", "higher"): ("续航更长", "续航里程更长"), ("指导价", "lower"): ("更便宜", "更实惠"),
    ("指导价", "higher"): ("更贵",), ("轴距", "higher"): ("空间更大", "轴距更长"), ("整备质量", "lower"): ("更轻",),
    ("整备质量", "higher"): ("更重",), ("座位", "higher"): ("座位更多",), ("排量", "higher"): ("排量更大",),
}
HP_DIRECTION_PHRASES = ("马力更大",)
RECOMMEND_TEMPLATES = ("预算{b}万，想买{car}，{use}为主，推荐哪款？", "{b}万以内，{use}，{car}有什么推荐？",
                       "想买台{car}，主要{use}，预算不超过{b}万，选哪个好？", "预算{b}w左右，{car}，{use}，推荐一下",
                       "{b}万预算能买什么{car}？{use}", "预算{b}万，{use}，求推荐{car}")
ENERGY_PHRASES = {"纯电": ("纯电", "电动"), "混动": ("混动", "插混"), "燃油": ("燃油",), "新能源": ("新能源",), None: ("",)}
BODY_PHRASES = {"SUV": ("SUV",), "轿车": ("轿车",), "MPV": ("MPV", "商务车"), None: ("车",)}
USE_PHRASES = {"通勤": ("通勤", "上下班代步"), "家用": ("家用", "一家人出行"), "长途": ("跑长途", "经常自驾"),
               "性能": ("追求驾驶乐趣", "看重性能"), None: ("没有特别要求",)}
ENERGY_CHOICES = (("纯电", 3), ("混动", 2), ("燃油", 2), ("新能源", 1), (None, 2))
BODY_CHOICES = (("SUV", 4), ("轿车", 3), ("MPV", 1), (None, 1))
USE_CHOICES = (("通勤", 3), ("家用", 3), ("长途", 2), ("性能", 2), (None, 1))


def _weighted(rng: random.Random, choices) -> object:
    values, weights = zip(*choices)
    return rng.choices(values, weights)[0]


SHORT_FORMS = {"标准续航版": "标准版", "长续航版": "长续航", "四驱性能版": "性能版"}


def short_form(token: str) -> str:
    """A short form people type: 豪华版 for 豪华型, 长续航 for 长续航版 (the retriever accepts these)."""
    if token.endswith("型"):
        return token[:-1] + "版"
    return SHORT_FORMS.get(token, token)


def car_name(rng: random.Random, trim_id: str) -> str:
    """One way of naming a trim that pins it down: year (when needed), brand/series, trim words."""
    index = auto_index()
    trim = index.trims[trim_id]
    same_name = [t for t in index.trims_of[trim["series"]] if index.trims[t]["trim_name"] == trim["trim_name"]]
    needs_year = trim["year"] != max(index.trims[t]["year"] for t in same_name)
    tokens = trim["trim_name"].split(" ")
    if rng.random() < 0.3:
        tokens = [short_form(t) for t in tokens]
    trim_words = " ".join(tokens) if rng.random() < 0.6 else "".join(tokens)
    series = trim["series_name"] if rng.random() < 0.4 else trim["brand_name"] + trim["series_name"]
    year = f"{trim['year']}款" if rng.random() < 0.7 else f"{trim['year'] % 100}款"
    if not needs_year and rng.random() < 0.4:
        return f"{series} {trim_words}"
    return rng.choice((f"{year} {series} {trim_words}", f"{series} {year} {trim_words}", f"{year}{series}{trim_words}"))


def spec_question(rng: random.Random, pool: list[str]) -> tuple[str, dict]:
    """A question about one trim's parameters (sometimes two; sometimes 马力; sometimes only the series)."""
    index = auto_index()
    trim_id = rng.choice(pool)
    trim = index.trims[trim_id]
    available = [i for i in param_values(trim) if i in ITEM_WEIGHTS]
    items = _sample_items(rng, available, 2 if rng.random() < 0.2 else 1)
    latest = index.latest_trims(trim["series"])
    series_only = trim_id in latest and len(latest) <= 3 and rng.random() < 0.1
    car = (trim["series_name"] if rng.random() < 0.5 else trim["brand_name"] + trim["series_name"]) if series_only \
        else car_name(rng, trim_id)
    trims = list(latest) if series_only else [trim_id]
    if items == ["最大功率"] and rng.random() < 0.3:
        return rng.choice(HP_TEMPLATES).format(car=car), {"type": "spec", "trims": trims, "items": items, "hp": True}
    words = [rng.choice(ITEM_PHRASES[i]) for i in items]
    if car[-1].isascii() and words[0][0].isascii():
        car += " "  # "MaxCLTC续航" would read as one word
    template = rng.choice(SPEC_TWO_TEMPLATES if len(items) == 2 else SPEC_TEMPLATES)
    text = template.format(car=car, item=words[0], item2=words[-1])
    return text, {"type": "spec", "trims": trims, "items": items, "hp": False}


def _sample_items(rng: random.Random, available: list[str], count: int) -> list[str]:
    picked: list[str] = []
    while len(picked) < min(count, len(available)):
        item = rng.choices(available, [ITEM_WEIGHTS[i] for i in available])[0]
        if item not in picked:
            picked.append(item)
    return picked


def compare_question(rng: random.Random, pool: list[str]) -> tuple[str, dict] | tuple[None, None]:
    """Two trims (same series, or the same body at a similar price) compared on one or two 项."""
    index = auto_index()
    a = rng.choice(pool)
    ta = index.trims[a]
    if rng.random() < 0.3:
        rivals = [t for t in index.trims_of[ta["series"]] if t != a and t in pool]
    else:
        rivals = [t for t in pool if index.trims[t]["body"] == ta["body"] and index.trims[t]["series"] != ta["series"]
                  and abs(index.trims[t]["price"] - ta["price"]) <= 0.35 * ta["price"]]
    if not rivals:
        return None, None
    b = rng.choice(rivals)
    va, vb = param_values(ta), param_values(index.trims[b])
    usable = [d for d in DIRECTION_PHRASES if d[0] in va and d[0] in vb and va[d[0]] != vb[d[0]]
              and not (d[0] in ("续航", "油耗") and ta["energy"] != index.trims[b]["energy"])]
    usable = list({item: (item, better) for item, better in rng.sample(usable, len(usable))}.values())  # one per 项
    if not usable:
        return None, None
    directions = rng.sample(usable, 2 if len(usable) > 1 and rng.random() < 0.15 else 1)
    hp = directions[0][0] == "最大功率" and rng.random() < 0.3
    phrases = [rng.choice(HP_DIRECTION_PHRASES) if hp and d[0] == "最大功率" else rng.choice(DIRECTION_PHRASES[d])
               for d in directions]
    template = rng.choice(COMPARE_TWO_TEMPLATES if len(directions) == 2 else COMPARE_TEMPLATES)
    text = template.format(a=car_name(rng, a), b=car_name(rng, b), p=phrases[0], p2=phrases[-1])
    return text, {"type": "compare", "trims": [a, b], "directions": directions, "hp": hp}


def recommend_question(rng: random.Random, budgets: range | None = None) -> tuple[str, dict]:
    """A budget, an energy type, a body type and a use case, any of the last three possibly unstated.

    The budget (万) is one of ``budgets``, or without them 6-60 (15% of the time 6.5-39.5).
    """
    energies, bodies = graph_choices()
    energy, body, use = _weighted(rng, energies), _weighted(rng, bodies), _weighted(rng, USE_CHOICES)
    if budgets is not None:
        budget = rng.choice(budgets)
    else:
        budget = rng.choice(range(6, 61)) if rng.random() < 0.85 else rng.choice(range(6, 40)) + 0.5
    car = rng.choice(ENERGY_PHRASES[energy]) + rng.choice(BODY_PHRASES[body])
    text = rng.choice(RECOMMEND_TEMPLATES).format(b=budget, car=car, use=rng.choice(USE_PHRASES[use]))
    return text, {"type": "recommend", "budget": budget, "energy": energy, "body": body, "use": use}


def graph_choices() -> tuple[tuple, tuple]:
    """(energy, body) choices of a recommendation limited to what the graph's trims have: an imported table
    without an energy (or body) column leaves trims unknown there, so questions then state none.

    >>> graph_choices() == (ENERGY_CHOICES, BODY_CHOICES)
    True
    """
    trims = auto_index().trims.values()
    energies, bodies = {t.get("energy") for t in trims}, {t.get("body") for t in trims}
    energies |= {"新能源"} if energies & {"纯电", "混动"} else set()
    return (tuple((e, w) for e, w in ENERGY_CHOICES if e is None or e in energies),
            tuple((b, w) for b, w in BODY_CHOICES if b is None or b in bodies))


def intent_matches(truth: dict, intent: dict) -> bool:
    """Whether the retriever read the question as it was meant."""
    if truth["type"] != intent["type"]:
        return False
    if intent["type"] == "recommend":
        return all(truth[k] == intent[k] for k in ("budget", "energy", "body", "use"))
    if [c["trim"] for c in truth["candidates"]] != intent["trims"] or truth["hp"] != intent["hp"]:
        return False
    if intent["type"] == "spec":
        return truth["items"] == intent["items"]
    return [(r["项"], r["better"]) for r in truth["comparisons"]] == [tuple(d) for d in intent["directions"]]

