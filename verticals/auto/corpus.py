"""The CPT corpus: short plain-text spec sentences written from the graph (~2100 strings).

Per trim: what it is, price, power (kW and 马力), torque, acceleration, fuel use or range, engine and
gearbox, body size, weight and drive, the retriever's fact line for it (so the model sees the format
it will be grounded with), and four question-answer lines. Per series and brand: a summary. The
``eval`` split holds the text about the dev split's held-out series only (their trims are unseen in
``train``); the test split's series are in neither.

>>> corpus = load_cpt_corpus()
>>> len(corpus["train"]) > 1500, len(corpus["eval"]) > 300
(True, True)
>>> any("约合" in t and "马力" in t for t in corpus["train"])
True
"""

from __future__ import annotations

from functools import lru_cache

from verticals.auto.kg import auto_index
from verticals.auto.retriever import candidate, trim_line
from verticals.auto.vocab import PARAMS, format_value, hp_of


def trim_sentences(trim: dict, line: str) -> list[str]:
    """Every sentence about one trim (``line`` is its retriever fact line). A sentence needing a value the
    trim lacks (an imported table without weights, an energy it did not know) is left out, never guessed.

    >>> sentences = trim_sentences({"full_name": "X", "weight": None, "drive": "前驱", "price": 9.9}, "line")
    >>> sentences
    ['X的官方指导价为9.90万元。', 'line', '问：X的指导价是多少？答：9.90万。']
    """
    n, v = trim["full_name"], lambda item, attr: format_value(item, trim[attr])
    templates = [  # (attributes the sentence needs, the sentence)
        (("brand_name", "series_name", "year", "energy", "body", "seats"), lambda: (
            f"{n}是{trim['brand_name']}{trim['series_name']}的{trim['year']}款配置，{trim['energy']}{trim['body']}，"
            f"{trim['seats']}座。")),
        (("price",), lambda: f"{n}的官方指导价为{v('指导价', 'price')}万元。"),
        (("power_kw", "torque"), lambda: f"{n}最大功率{trim['power_kw']}kW，约合{hp_of(trim['power_kw'])}马力，"
                                         f"最大扭矩{trim['torque']}N·m。"),
        (("accel",), lambda: f"{n}的0-100km/h加速时间为{v('0-100', 'accel')}秒。"),
        (("length", "width", "height", "wheelbase"),
         lambda: f"{n}长宽高{trim['length']}×{trim['width']}×{trim['height']}mm，轴距{trim['wheelbase']}mm。"),
        (("weight", "drive"), lambda: f"{n}整备质量{trim['weight']}kg，{trim['drive']}。"),
        ((), lambda: line),
        (("power_kw",), lambda: f"问：{n}的最大功率是多少？答：{trim['power_kw']}kW（约{hp_of(trim['power_kw'])}马力）。"),
        (("price",), lambda: f"问：{n}的指导价是多少？答：{v('指导价', 'price')}万。"),
        (("accel",), lambda: f"问：{n}百公里加速多快？答：0-100 {v('0-100', 'accel')}s。"),
        (("seats", "drive"), lambda: f"问：{n}是几座、什么驱动？答：{trim['seats']}座，{trim['drive']}。"),
    ]
    if trim.get("energy") == "纯电":
        templates += [(("range_km",), lambda: f"{n}的CLTC续航里程为{trim['range_km']}km。"),
                      ((), lambda: f"{n}采用电机驱动，匹配单速变速箱。")]
    elif trim.get("energy") in ("燃油", "混动"):
        templates.append((("engine", "displacement", "transmission"), lambda: (
            f"{n}搭载{trim['engine']}发动机，排量{v('排量', 'displacement')}L，匹配{trim['transmission']}变速箱。")))
        templates.append((("fuel",) + (("range_km",) if trim["energy"] == "混动" else ()), lambda: (
            f"{n}的油耗为{v('油耗', 'fuel')}L/100km"
            + (f"，CLTC纯电续航{trim['range_km']}km。" if trim["energy"] == "混动" else "。"))))
    return [make() for needs, make in templates if all(trim.get(attr) is not None for attr in needs)]


def series_sentences(series_id: str) -> list[str]:
    """A summary of one series: body, class, energies, years on sale, price range."""
    index = auto_index()
    s, trims = index.series[series_id], [index.trims[t] for t in index.trims_of[series_id]]
    years = "、".join(f"{y}款" for y in sorted({t["year"] for t in trims}))
    prices = [t["price"] for t in trims]
    name = s["brand_name"] + s["name"]
    return [f"{name}是{s['brand_name']}旗下的{s['size_class']}级{s['body']}，提供{'、'.join(s['energies'])}版本。",
            f"{name}有{years}，共{len(trims)}个配置，指导价{min(prices):.2f}-{max(prices):.2f}万元。"]


def brand_sentence(brand_id: str, series_ids: list[str]) -> str:
    index = auto_index()
    brand = index.brands[brand_id]
    names = "、".join(index.series[s]["name"] for s in series_ids)
    return f"{brand['name']}是{brand['tier']}{brand['style']}品牌，旗下车系有{names}。"


@lru_cache(maxsize=1)
def load_cpt_corpus() -> dict[str, list[str]]:
    """``{"train": [...], "eval": [...]}``; eval is the text about the held-out series."""
    index = auto_index()
    corpus: dict[str, list[str]] = {"train": [], "eval": []}
    for series_id in sorted(index.series):
        if series_id in index.test:  # the test split's series are in neither part
            continue
        split = "eval" if series_id in index.held_out else "train"
        corpus[split] += series_sentences(series_id)
        for trim_id in index.trims_of[series_id]:
            corpus[split] += trim_sentences(index.trims[trim_id], trim_line(candidate(1, trim_id), list(PARAMS)))
    for brand_id in sorted(index.brands):
        train_series = [s for s in sorted(index.series) if index.series[s]["brand"] == brand_id
                        and s not in index.held_out and s not in index.test]
        if train_series:
            corpus["train"].append(brand_sentence(brand_id, train_series))
    corpus["train"].append("1kW约等于1.36马力（PS），马力按千瓦数乘以1.36四舍五入。")
    return corpus
