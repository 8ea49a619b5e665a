"""Personal data: reporters masked for those who do not handle a case, free text redacted in
the public feed."""

from __future__ import annotations

import pytest

from backend.domain.personal import mask_reporter, redact


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("请联系13800138000王先生", "请联系[电话]王先生"),
        ("电话 138 0013 8000，或 +86 139-0013-9000", "电话 [电话]，或 [电话]"),
        ("座机0793-8221234", "座机[电话]"),
        ("身份证36110219800101123X请核实", "身份证[证件号]请核实"),
        ("3栋2单元501室楼上漏水", "[门牌]楼上漏水"),
        ("5号楼301噪音", "[门牌]噪音"),
        ("住12-3-402", "住[门牌]"),
        ("701室装修", "[门牌]装修"),
        ("路灯坏了3天，约200米", "路灯坏了3天，约200米"),  # figures that are no one's
        ("2026年11月23日上午", "2026年11月23日上午"),
    ],
)
def test_the_public_feed_loses_what_identifies_a_person_or_a_home(text, shown):
    assert redact(text) == shown


@pytest.mark.parametrize(
    ("reporter", "masked"),
    [
        ("张三 13800138000", "张* 138****8000"),
        ("欧阳娜娜", "欧***"),
        ("13800138000", "138****8000"),
        ("li@example.com", "l***@example.com"),
        (None, None),
        ("", ""),
    ],
)
def test_a_reporter_is_masked_to_a_surname_and_part_of_a_number(reporter, masked):
    assert mask_reporter(reporter) == masked
