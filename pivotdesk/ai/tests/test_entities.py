"""Entity extraction (pure): each kind, workspace configuration, and properties that hold for any text."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from pivotdesk.ai.domain.entities import EntityConfig, extract_entities, mask_id_number, mask_sensitive

CATALOG = EntityConfig.from_settings({}, catalog=["PD-100 扫码枪 Scanner", "PD-X1 路由器 Router"])
VALID_ID = "11010519491231002X"


def kinds(text: str, config: EntityConfig | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in extract_entities(text, config or CATALOG):
        out.setdefault(e.kind, []).append(e.value)
    return out


def test_a_chinese_ticket_yields_every_kind():
    text = (
        "您好，订单号：PD2026011512345 还没发货，电话13812345678，身份证11010519491231002X，邮箱 Zhang.Wei@Example.com。"
        "PD-100扫码枪开机报错E-1043，日志 0x8007045D，ERR_TIMEOUT。退款¥1,299.00，共3万元。"
        "地址：广东省深圳市南山区科技园南路88号。SN: ABC123456。"
    )
    found = kinds(text)
    assert found["order_number"] == ["PD2026011512345"]
    assert found["phone"] == ["+8613812345678"]
    assert found["id_number"] == ["110105********002X"]
    assert found["email"] == ["zhang.wei@example.com"]
    assert found["device_model"] == ["PD-100 扫码枪 Scanner"]
    assert found["error_code"] == ["E-1043", "0x8007045D", "ERR_TIMEOUT"]
    assert found["money"] == ["CNY 1299.00", "CNY 30000"]
    assert found["address"] == ["广东省深圳市南山区科技园南路88号"]
    assert found["serial_number"] == ["ABC123456"]


def test_english_text_money_and_phones():
    found = kinds(
        "Our PD-X1 shows error NET-504 on order #PD2026011599999; call +852 5123 4567. Paid $25.50 and 100 USD"
    )
    assert found["device_model"] == ["PD-X1 路由器 Router"]
    assert found["error_code"] == ["NET-504"]
    assert found["order_number"] == ["PD2026011599999"]
    assert found["phone"] == ["+85251234567"]
    assert found["money"] == ["USD 25.50", "USD 100"]


def test_city_and_district_without_a_province():
    assert kinds("请寄到杭州市西湖区文三路100号")["address"] == ["杭州市西湖区文三路100号"]


def test_id_numbers_are_masked_and_never_raw():
    (entity,) = [e for e in extract_entities(f"身份证号 {VALID_ID}") if e.kind == "id_number"]
    assert entity.value == "110105********002X" and entity.raw == ""
    assert mask_id_number("110101199003071234") == "110101********1234"


def test_an_invalid_id_checksum_is_not_an_id_number():
    assert "id_number" not in kinds("身份证 110105194912310021")


def test_id_digits_are_not_taken_for_phones_or_orders():
    found = kinds(f"订单 {VALID_ID}")
    assert found == {"id_number": ["110105********002X"]}


def test_workspace_patterns_catalog_fields_and_switches():
    config = EntityConfig.from_settings(
        {
            "patterns": {"order_number": [r"(?<![A-Z0-9])(SO-\d{6})"], "device_model": "[broken("},
            "catalog": ["Model Z9"],
            "disabled": ["phone"],
        }
    )
    found = kinds("Order SO-123456 for my Model Z9, call 13812345678", config)
    assert found["order_number"] == ["SO-123456"]
    assert found["device_model"] == ["Model Z9"]
    assert "phone" not in found
    assert "device_model" not in config.patterns  # the broken regex was dropped


def test_replacing_the_default_patterns():
    config = EntityConfig.from_settings({"patterns": {"order_number": [r"#(\d{5})"]}, "replace_default_patterns": True})
    assert kinds("订单号 PD2026011512345 and #12345", config)["order_number"] == ["12345"]


def test_mask_sensitive_masks_ids_inside_any_text():
    assert mask_sensitive(f"x{VALID_ID}9") == "x110105********002X9"
    assert mask_sensitive("no ids here") == "no ids here"


def _random_id(rng: random.Random) -> str:
    body = f"{rng.choice(['110101', '110102', '110105'])}19{rng.randint(60, 99)}{rng.randint(1, 12):02d}"
    body += f"{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")  # it expects a (placeholder) check digit


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_any_text_never_crashes_and_spans_are_substrings(text):
    for e in extract_entities(text, CATALOG):
        assert 0 <= e.start < e.end <= len(text)
        if e.raw:
            assert e.raw == text[e.start : e.end]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(max_size=30), st.sampled_from(["订单号", "SN:", "电话", "order #", " ", "0", "1"])),
        max_size=8,
    ),
    st.randoms(use_true_random=False),
)
def test_id_numbers_never_leave_unmasked(parts, rng):
    """Found by hypothesis on PostgreSQL's run: "1" + an ID number made the window "111010519701104006", for
    which python-stdnum raises KeyError (see test_a_region_stdnum_cannot_place_is_not_a_crash)."""
    number = _random_id(rng)
    assert ric.is_valid(number)
    text = "".join(parts[: len(parts) // 2]) + number + "".join(parts[len(parts) // 2 :])
    for e in extract_entities(text, CATALOG):
        assert number not in e.value and number not in e.raw


def test_a_region_stdnum_cannot_place_is_not_a_crash():
    """python-stdnum 2.2 raises KeyError (not InvalidComponent) for 111010519701104006: region 111010 has no county
    in its table. Any text can hold such digits; the extractor treats them as no ID number."""
    for text in ("111010519701104006", "订单号 111010519701104006 已付款", "1110105197011040063"):
        assert not [e for e in extract_entities(text, CATALOG) if e.kind == "id_number"]
