"""Which colleagues a note @mentions (pure)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.tickets.domain.mentions import MAX_MENTIONS, handles


def test_handles_are_named_after_a_non_word_character_and_without_a_trailing_full_stop():
    text = "@ZhaoLei 请看一下，cc @li.na and @wang-wei. Mail ops@example.com, not @@x; (@chen_1)"
    assert handles(text) == ["zhaolei", "li.na", "wang-wei", "chen_1"]


def test_chinese_text_right_before_the_at_sign_counts_as_a_boundary_only_when_it_is_not_a_word_character():
    assert handles("请@zhaolei 处理") == []  # a CJK character is a word character: no boundary, as in an address
    assert handles("请 @zhaolei 处理") == ["zhaolei"]


def test_each_handle_once_and_at_most_twenty():
    text = " ".join(f"@a{i} @a{i}" for i in range(30))
    assert handles(text) == [f"a{i}" for i in range(MAX_MENTIONS)]


@given(st.text(alphabet=st.sampled_from(list("ab@. _-+中\n")), max_size=60))
def test_every_handle_is_written_in_the_text_after_an_at_sign(text):
    lowered = text.lower()
    for name in handles(text):
        assert re.search(r"(?<![\w@.+-])@" + re.escape(name), lowered), (text, name)
        assert not name.endswith((".", "-", "+"))
