"""A broken YAML file is explained in Chinese at its line, never with PyYAML's English."""
from __future__ import annotations

import re

import pytest

from lms.contentfile import ContentErrors, load_yaml

CASES = [
    ("a: b: c\n", 1, "不能再出现“键: 值”"),
    ("a:\n  - x\n - y\n", 3, "缩进不对"),
    ("a: [1, 2\n", 2, "方括号列表没有闭合"),
    ("a: {x: 1\n", 2, "花括号没有闭合"),
    ("a:\n\tb: 1\n", 2, "用了制表符"),
    ("a: 'abc\n", 2, "引号或括号闭合之前"),
    ("a: *foo\n", 1, "未定义的别名"),
    ("a: @x\n", 1, "值不能以“@”开头"),
    ("- a\nb: 1\n", 2, "列表的缩进不对"),
    ("a: &x 1\nb: &x 2\n", 2, "锚点（&名称）重复"),
]


@pytest.mark.parametrize("text, line, words", CASES)
def test_yaml_errors_say_what_is_wrong_in_chinese_at_the_line(text, line, words):
    with pytest.raises(ContentErrors) as caught:
        load_yaml(text, "question_bank/x.yaml")
    [error] = caught.value.errors
    assert (error.path, error.line) == ("question_bank/x.yaml", line)
    assert error.message.startswith("YAML 格式错误：") and words in error.message, error.message
    assert not re.search(r"[A-Za-z]{3,}", error.message.replace("YAML", "")), error.message  # the format keeps its name
