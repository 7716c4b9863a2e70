"""Cleaning, units, flags, layouts, the mapping loader and the report: table-driven cases."""

from __future__ import annotations

import pytest

from knowledge_graphs.importers.common import (
    CellError, MappingError, clean_cell, load_mapping, parse_flag, parse_layout, parse_quantity, split_list,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("  山东大学 ", "山东大学"),          # leading / trailing spaces
    ("５９８", "598"),                   # full-width digits (NFKC)
    ("山东大学（威海）", "山东大学(威海)"),  # full-width brackets
    ("ＰＨＥＶ", "PHEV"),
    ("本科\u3000一批", "本科 一批"),       # ideographic space collapsed
    ("-", None), ("—", None), ("", None), ("  ", None), ("暂无", None), ("N/A", None), (None, None),
    ("无", "无"),                        # a real value for 电梯; numbers treat it as missing
])
def test_clean_cell(raw, expected):
    assert clean_cell(raw) == expected


@pytest.mark.parametrize(("text", "dimension", "unit", "value", "open_ended"), [
    ("11.90万元", "wan_yuan", "", 11.9, None),
    ("189800元", "wan_yuan", "", 18.98, None),
    ("650万", "wan_yuan", "", 650, None),
    ("650", "wan_yuan", "元", 0.065, None),      # a bare number takes the mapping's unit
    ("104569元/平", "yuan_per_sqm", "", 104569, None),
    ("6.5万/平", "yuan_per_sqm", "", 65000, None),
    ("99kw", "kw", "", 99, None),
    ("136马力", "kw", "", 100, None),
    ("1.6L", "litre", "", 1.6, None),
    ("1.5T", "litre", "", 1.5, None),
    ("186km/h", "km_h", "", 186, None),
    ("1234", "count", "", 1234, None),
    ("580及以上", "score", "", 580, "above"),
    ("150以下", "score", "", 150, "below"),
    ("89.5平米", "sqm", "", 89.5, None),
    ("35%", "percent", "", 35, None),
    ("5座", "count", "", 5, None),
])
def test_parse_quantity(text, dimension, unit, value, open_ended):
    quantity = parse_quantity(clean_cell(text), dimension, unit)
    assert quantity.value == pytest.approx(value) and quantity.open_ended == open_ended


def test_thousands_separator_after_cleaning():
    assert parse_quantity(clean_cell("１０４,５６９元/平"), "yuan_per_sqm").value == 104569


@pytest.mark.parametrize(("text", "dimension", "reason"), [
    ("待定", "wan_yuan", "not_a_number:wan_yuan"),
    ("12美元", "wan_yuan", "unknown_unit:美元"),
])
def test_parse_quantity_failures_name_the_reason(text, dimension, reason):
    with pytest.raises(CellError, match=reason):
        parse_quantity(text, dimension)


@pytest.mark.parametrize(("text", "expected"), [
    ("2 室 2 厅 1 卫", (2, 2, 1)), ("3室2厅2卫", (3, 2, 2)), ("3室1厅", (3, 1, 1)), ("4室2厅1厨2卫", (4, 2, 2)),
    ("2-1-1", (2, 1, 1)), ("两室一厅", (2, 1, 1)),
])
def test_parse_layout(text, expected):
    assert parse_layout(text) == expected


def test_parse_layout_rejects_what_it_cannot_read():
    with pytest.raises(CellError):
        parse_layout("复式")


@pytest.mark.parametrize(("text", "expected"), [("是", True), ("√", True), ("Y", True), ("1", True), ("否", False),
                                                ("×", False), ("N", False), ("无", False), (None, None)])
def test_parse_flag(text, expected):
    assert parse_flag(text) == expected


def test_split_list():
    assert split_list("2号线,4号线") == ["2号线", "4号线"] and split_list(None) == []


def test_mapping_loader(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("vertical: gaokao\nkind: admissions\ncolumns:\n  year: 年份\n  province: {value: 广东}\n"
                    "  plan: {column: 计划, unit: 人}\naliases:\n  batch: {本科一批: 本科批}\n", encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.columns["province"].value == "广东" and mapping.columns["plan"].unit == "人"
    assert mapping.aliases["batch"]["本科一批"] == "本科批"
    assert load_mapping(path, kind="batch_lines").kind == "batch_lines"
    path.write_text("vertical: gaokao\ncolumns:\n  year: {col: 年份}\n", encoding="utf-8")
    with pytest.raises(MappingError, match="year"):
        load_mapping(path, kind="admissions")
