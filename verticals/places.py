"""Chinese place names a question may name, whether or not a vertical's graph holds them.

A retriever only knows the places of its graph. To *say* that a named place is not covered (instead of
silently answering about another), it must recognise places outside the graph too: the provincial-level
divisions, the larger cities, and the best-known districts of the largest cities (a buyer writes
``海淀`` and means 北京).

>>> places_named("想在北京海淀买个学区房，或者上海浦东也行")
['北京', '上海']
>>> places_named("海淀的学区房"), places_named("预算600万")
(['北京'], [])
"""

from __future__ import annotations

import re

PROVINCES = ("北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建",
             "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海",
             "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门", "台湾")
CITIES = ("北京", "上海", "天津", "重庆", "广州", "深圳", "杭州", "南京", "苏州", "无锡", "常州", "宁波", "温州", "绍兴",
          "嘉兴", "金华", "台州", "合肥", "芜湖", "福州", "厦门", "泉州", "南昌", "济南", "青岛", "烟台", "潍坊", "郑州",
          "洛阳", "武汉", "宜昌", "襄阳", "长沙", "株洲", "成都", "绵阳", "贵阳", "昆明", "南宁", "桂林", "海口", "三亚",
          "西安", "兰州", "西宁", "银川", "乌鲁木齐", "拉萨", "呼和浩特", "包头", "太原", "石家庄", "保定", "唐山", "沈阳",
          "大连", "长春", "哈尔滨", "东莞", "佛山", "珠海", "中山", "惠州", "汕头", "扬州", "徐州", "南通", "镇江", "盐城")
# district -> its city: districts people name without the city (a few per largest city)
DISTRICTS = {
    "海淀": "北京", "朝阳区": "北京", "西城": "北京", "东城": "北京", "丰台": "北京", "望京": "北京", "通州": "北京",
    "浦东": "上海", "徐汇": "上海", "静安": "上海", "黄浦": "上海", "闵行": "上海", "长宁": "上海",
    "天河": "广州", "越秀": "广州", "番禺": "广州", "南山": "深圳", "福田": "深圳", "宝安": "深圳", "龙华": "深圳",
    "武侯": "成都", "锦江": "成都",
}

_PLACE = re.compile("|".join(sorted({*CITIES, *PROVINCES, *DISTRICTS}, key=len, reverse=True)))  # longest first


def places_named(text: str) -> list[str]:
    """Cities and provinces named in ``text`` (a district stands for its city), in order, each once."""
    found = []
    for match in _PLACE.finditer(text):
        place = DISTRICTS.get(match.group(0)) or match.group(0)
        if place not in found:
            found.append(place)
    return found
