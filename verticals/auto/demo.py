"""Two hand-checked demo questions and their gold answers: the examples rule docstrings and tests edit.

In the comparison, [2] (6.5s) beats [1] (7.9s) by 1.4s. In the recommendation (预算20万, 纯电 SUV, 通勤,
ranked by 续航), [2] and [3] fit, [1] is over budget and [4] is a 混动.

>>> print(COMPARE_ANSWER)
【参数】{"车型":[1,2],"参数":[{"项":"0-100","值":{"1":"7.9s","2":"6.5s"},"胜":2}]}
【结论】[2]加速更快，0-100占优。
>>> print(RECOMMEND_ANSWER.splitlines()[1])
【结论】推荐[2]和[3]：都在预算内，[2]续航最长，适合通勤。
"""

from __future__ import annotations

from verticals.auto.experts import write_gold_answer


def _demo_candidate(number: int, name: str, energy: str, body: str, tag: str | None = None, **params) -> dict:
    row = {"id": number, "trim": f"trim:demo{number}", "name": name, "series": name.split()[1][2:],
           "brand": name.split()[1][:2], "energy": energy, "body": body, "params": params}
    return {**row, "tag": tag} if tag else row


COMPARE_EXAMPLE = {"id": "auto-demo-compare", "messages": [{"role": "user", "content": "星驰逐风和松原松韵哪个加速更快？"}],
                   "truth": {"type": "compare", "items": ["0-100"], "hp": False, "targets": [1, 2], "notes": [],
                             "candidates": [
    _demo_candidate(1, "2024款 星驰逐风 1.5T 舒适型", "燃油", "轿车", 指导价=10.88, 最大功率=120, **{"0-100": 7.9}),
    _demo_candidate(2, "2025款 松原松韵 PHEV 豪华型", "混动", "轿车", 指导价=19.98, 最大功率=195, **{"0-100": 6.5})],
                             "comparisons": [{"项": "0-100", "better": "lower", "unit": "s",
                                              "values": {"1": 7.9, "2": 6.5}, "winner": 2, "gap": 1.4}]}}
RECOMMEND_EXAMPLE = {"id": "auto-demo-recommend", "messages": [{"role": "user", "content": "预算20万，纯电SUV，通勤"}],
                     "truth": {"type": "recommend", "items": [], "hp": False, "targets": [], "notes": [],
                               "comparisons": [], "budget": 20, "energy": "纯电", "energies": ["纯电"], "body": "SUV",
                               "use": "通勤", "metric": "续航", "recommend": [2, 3], "candidates": [
    _demo_candidate(1, "2025款 云岚澄空 Max", "纯电", "SUV", "超预算", 指导价=23.68, 续航=605, 座位=5),
    _demo_candidate(2, "2025款 辰光极光 Max", "纯电", "SUV", "符合", 指导价=15.88, 续航=560, 座位=5),
    _demo_candidate(3, "2025款 极岸浪花 Max", "纯电", "SUV", "符合", 指导价=15.38, 续航=485, 座位=5),
    _demo_candidate(4, "2025款 松原松柏 PHEV 豪华型", "混动", "SUV", "不符能源", 指导价=15.18, 续航=175, 座位=5)]}}
COMPARE_ANSWER = write_gold_answer(COMPARE_EXAMPLE["truth"], "干练")
RECOMMEND_ANSWER = write_gold_answer(RECOMMEND_EXAMPLE["truth"], "干练")
