"""CPT corpus: short Chinese domain texts generated from the graph, plus 志愿填报 know-how.

Train texts come from the train-pool provinces and universities, eval texts from the eval pool (湖北
and its universities) plus a few held-out know-how paragraphs, matching the eval-set hold-out.

>>> corpus = load_cpt_corpus()
>>> len(corpus["train"]) > 1500, all(len(t) <= 200 for t in corpus["train"] + corpus["eval"])
(True, True)
"""

from __future__ import annotations

import random
from functools import lru_cache

from verticals.gaokao.kg import HISTORY_YEARS, gaokao_index
from verticals.gaokao.vocab import REACH_BELOW, SAFETY_ABOVE, margin_percent, tier_for_margin

CORPUS_SEED = 7
MAX_CHARS = 200
RECORDS_PER_POOL = {"train": 1400, "eval": 150}
TABLE_EXCERPTS_PER_TABLE = 12
TIER_EXAMPLES_PER_POOL = {"train": 300, "eval": 40}
KNOW_HOW = (
    "平行志愿按“分数优先、遵循志愿”投档：先按位次排序考生，再依次检索其志愿，遇到第一个可投的专业组即投出。",
    "滑档是指考生分数够线却没有被任何志愿录取，常见原因是志愿梯度太窄、保底志愿不够稳。",
    "退档是指档案投出后被院校退回，常见原因是不服从专业调剂、体检或单科成绩不符合要求。",
    "大小年是指院校或专业组的录取位次一年高一年低地波动，前一年冷门的专业组第二年往往报考人数激增。",
    "冲稳保是填报梯度：冲的专业组往年位次高于考生，稳的与考生相当，保的明显低于考生，保底要留足余量。",
    "位次法比分数法更可靠：每年试卷难度不同，分数不可直接比较，而一分一段表给出的位次在年份间更稳定。",
    "一分一段表列出每个分数的人数和累计人数，累计人数就是该分数对应的最低位次。",
    "院校专业组是投档的基本单位，组内各专业选科要求相同，投档后在组内按分数和志愿分配专业。",
    "服从专业调剂可以降低退档风险，但可能被调到组内不太喜欢的专业，填报前要看清组内所有专业。",
    "选科要求写作“物理+化学”时，考生必须同时选考这两门才能报考；“不限”表示任何选科组合都能报。",
    "3+1+2模式中，首选科目物理或历史决定考生所在科类，物理类与历史类分别排位、分别投档。",
    "3+3模式不分文理，考生从多门科目中任选三门，所有考生按综合排位投档。",
    "本科批控制线是本科批次的最低投档线，特殊类型招生控制线用于强基计划、高校专项等特殊类型招生。",
    "参考近三年最低位次的均值比只看一年更稳妥，波动大的专业组更要留出余地。",
    "冲的志愿不宜过多，一般放在前面；保底志愿放在最后，且位次要明显低于考生位次。",
    "同分考生按单科成绩等规则排序，所以同一分数段内的位次也有先后。",
    "志愿表按顺序检索，排在前面的专业组先被检索，因此要按冲、稳、保的顺序排列。",
    "计划数少的专业组录取位次更容易波动，计划扩招的年份位次往往下降。",
    "填报前要核对招生章程：身体条件、单科成绩、外语语种等限制都可能导致退档。",
    "民办高校学费较高，保底时可以作为最后的选择，但要提前了解学费和办学条件。",
    "中外合作办学专业组通常录取位次略低，但学费较高，要结合家庭情况考虑。",
    "新高考省份的专业组数量多，考生要把有限的志愿用在真正愿意去的专业组上。",
    "强基计划和综合评价招生有单独的报名和考核，不占用普通批次的平行志愿。",
    "考生位次与专业组均值位次之差除以考生位次，就是判断冲稳保的相对差距。",
    "地域偏好会影响录取：一线城市院校往往比同层次的其他城市院校更难考。",
)
HELD_OUT_KNOW_HOW = 5  # the last paragraphs go to the eval split


@lru_cache(maxsize=1)
def load_cpt_corpus() -> dict[str, list[str]]:
    """``{"train": [...], "eval": [...]}`` of texts of at most ``MAX_CHARS`` characters."""
    rng = random.Random(CORPUS_SEED)
    corpus = {}
    for pool in ("train", "eval"):
        texts = (admission_texts(rng, pool) + table_texts(rng, pool) + control_line_texts(pool)
                 + university_texts(pool) + tier_texts(rng, pool))
        corpus[pool] = [t for t in texts if len(t) <= MAX_CHARS]
    corpus["train"] += list(KNOW_HOW[:-HELD_OUT_KNOW_HOW])
    corpus["eval"] += list(KNOW_HOW[-HELD_OUT_KNOW_HOW:])
    rng.shuffle(corpus["train"])
    return corpus


def _pool_provinces(pool: str) -> tuple[str, ...]:
    return gaokao_index().pools.get(pool, ())


def admission_texts(rng: random.Random, pool: str) -> list[str]:
    """One sentence per sampled admission record."""
    index = gaokao_index()
    keys = sorted(k for k in index.records if k[1] in _pool_provinces(pool))
    texts = []
    for group_id, province, track, year in rng.sample(keys, min(RECORDS_PER_POOL[pool], len(keys))):
        record = index.records[(group_id, province, track, year)]
        group, university = index.groups[group_id], index.university_of(group_id)
        plan = "招生计划未公布" if record.get("plan") is None else f"计划招生{record['plan']}人"
        score = "" if record.get("min_score") is None else f"录取最低分{record['min_score']}分，"  # rank-only tables
        texts.append(f"{year}年，{university['name']}{group['name']}在{province}{track}{score}"
                     f"最低位次{record['min_rank']}，{plan}。")
    return texts


def table_texts(rng: random.Random, pool: str) -> list[str]:
    """一分一段 excerpts: three consecutive scores with their 累计人数 (none from a table of under 3 scores)."""
    index = gaokao_index()
    texts = []
    for (province, year, track), table in sorted(index.tables.items()):
        if province not in _pool_provinces(pool) or table["max_score"] - table["min_score"] < 2:
            continue
        low = table["min_score"] + 2  # the excerpt's top score: the 20 best scores are left out when the table allows
        high = table["max_score"] - 20 if table["max_score"] - 20 >= low else table["max_score"]
        for _ in range(TABLE_EXCERPTS_PER_TABLE):
            top = rng.randint(low, high)
            rows = "，".join(f"{s}分累计{table['ranks'][table['max_score'] - s]}人" for s in range(top, top - 3, -1))
            texts.append(f"{province}{year}年{track}一分一段：{rows}。")
    return texts


def control_line_texts(pool: str) -> list[str]:
    """One sentence per table listing the 批次 control lines the graph has for it (none: no sentence)."""
    index = gaokao_index()
    texts = []
    for (province, year, track) in sorted(index.tables):
        if province in _pool_provinces(pool):
            lines = [f"{batch}{'' if batch.endswith('线') else '控制线'}{index.batch_lines[(province, year, track, batch)]}分"
                     for batch in ("本科批", "特殊类型招生控制线", "专科批")
                     if (province, year, track, batch) in index.batch_lines]
            if lines:
                texts.append(f"{year}年{province}{track}{'，'.join(lines)}。")
    return texts


def university_texts(pool: str) -> list[str]:
    """A description per university, naming its flags and 专业组 with 选科 requirements."""
    index = gaokao_index()
    texts = []
    for uid, u in sorted(index.universities.items()):
        if u["pool"] != pool:
            continue
        flags = [name for name, flag in (("985", u["is_985"]), ("211", u["is_211"]),
                                          ("双一流", u["is_double_first_class"])) if flag]
        honours = f"，入选{'、'.join(flags)}" if flags else ""
        groups = [g for g in index.groups.values() if g["university"] == uid]
        offers = "；".join(f"{g['name']}选科要求{'+'.join(g['subjects']) or '不限'}" for g in groups)
        texts.append(f"{u['name']}位于{u['city']}，是一所{u['ownership']}{u['type']}类高校{honours}。{offers}。")
    return texts


def tier_texts(rng: random.Random, pool: str) -> list[str]:
    """Worked 冲/稳/保 judgements for the latest exam year: student rank vs a group's three-year mean rank.

    Groups with no record in those three years are left out; one lacking a year names it (``缺2023年``)
    and averages the others.
    """
    index = gaokao_index()
    if not index.exam_years:
        return []
    exam_year = index.exam_years[-1]
    years = range(exam_year - HISTORY_YEARS, exam_year)
    keys = sorted({(g, p, t) for g, p, t, _ in index.records if p in _pool_provinces(pool)})
    keys = [k for k in keys if any((*k, y) in index.records for y in years)]
    texts = []
    for group_id, province, track in rng.sample(keys, min(TIER_EXAMPLES_PER_POOL[pool], len(keys))):
        ranks = [index.records[(group_id, province, track, y)]["min_rank"] for y in years
                 if (group_id, province, track, y) in index.records]
        missing = [y for y in years if (group_id, province, track, y) not in index.records]
        mean = round(sum(ranks) / len(ranks))
        student = max(1, round(mean * rng.uniform(0.7, 1.4)))
        margin = margin_percent(mean, student)
        tier = tier_for_margin(margin)
        rule = {"冲": f"低于{REACH_BELOW}%", "保": f"高于{SAFETY_ABOVE}%", "稳": f"在{REACH_BELOW}%到{SAFETY_ABOVE}%之间"}[tier]
        gap = f"（缺{'、'.join(map(str, missing))}年）" if missing else ""
        texts.append(f"{province}{exam_year}{track}考生位次{student}，{index.university_of(group_id)['name']}"
                     f"{index.groups[group_id]['name']}近三年位次{'/'.join(map(str, ranks))}{gap}，均{mean}，"
                     f"差{margin:+d}%，{rule}，属于{tier}。")
    return texts
