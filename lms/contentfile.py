"""Helpers shared by every content parser: line-aware YAML and file:line errors.

Parsers are pure: they read text and return data or raise ``ContentErrors``;
they never touch the database. Every problem names the file and the line so a
trainer can fix it in an editor.
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import yaml


@dataclasses.dataclass(frozen=True)
class ContentError:
    """One problem in a content file, printed as ``path:line: message``."""

    path: str
    line: int
    message: str
    #: the org code the file names when that unit does not exist ("" when the tree is empty): the import
    #: command then says once what to do instead of repeating it for every file
    missing_org: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def missing_org_error(path: str, line: int, code: str | None) -> ContentError:
    """The file's `org` (or, without one, the tree's root) does not exist yet."""
    message = f"组织编码“{code}”不存在" if code else "系统中还没有组织架构，无法确定所属组织（org）"
    return ContentError(path, line, message, missing_org=code or "")


def missing_org_hint(code: str) -> str:
    """What to do when content names an org unit the database lacks (API.md, Set-up)."""
    prefix = f"组织编码“{code}”不存在" if code else "系统中还没有组织架构"
    return f"{prefix}：先导入组织架构（flask --app lms org import …）或运行 flask --app lms demo"


def escaping_symlinks(root: Path) -> list[tuple[Path, Path]]:
    """(link, target) for every symbolic link under root (files and folders) that leads outside root.

    Links are not followed while walking, so a link to a folder outside is reported, not entered; links that
    stay inside root are allowed.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    inside = root.resolve()
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in sorted(dirs) + sorted(files):
            path = Path(folder) / name
            if path.is_symlink():
                target = path.resolve()
                if target != inside and inside not in target.parents:
                    found.append((path, target))
    return sorted(found)


class ContentErrors(Exception):
    """All problems found in one file; the file is rejected whole."""

    def __init__(self, errors: list[ContentError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class Located:
    """Maps key paths of a parsed YAML document to 1-based line numbers.

    ``lines[("questions", 3, "answer")]`` is the line of that value; a missing
    path falls back to its nearest ancestor, so an error about a missing key
    points at the mapping that should have held it.
    """

    def __init__(self, lines: dict[tuple, int]):
        self._lines = lines

    def line(self, *path) -> int:
        path = tuple(path)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return self._lines.get((), 1)


# libyaml's parser when present: composing 10,000 questions with the pure-Python one costs seconds.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):
    """Safe loader that keeps YAML 1.1 quirks out: 'on'/'yes' stay strings."""


# YAML 1.1 reads yes/no/on/off as booleans; trainers write 是/否 and true/false.
_LineLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _walk(node, path: tuple, lines: dict, loader: _LineLoader):
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, list):  # unhashable; report later as a bad key
                key = str(key)
            result[key] = _walk(value_node, path + (key,), lines, loader)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(child, path + (i,), lines, loader) for i, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml(text: str, path: str) -> tuple[object, Located]:
    """Parse YAML text; return (data, Located) or raise ContentErrors with the line."""
    try:
        loader = _LineLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, Located({(): 1})
            lines: dict[tuple, int] = {}
            data = _walk(node, (), lines, loader)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ContentErrors([ContentError(path, line, f"YAML 格式错误：{yaml_problem(exc, text, mark)}")]) from None
    except yaml.YAMLError as exc:
        raise ContentErrors([ContentError(path, 1, f"YAML 格式错误：{yaml_problem(exc)}")]) from None
    return data, Located(lines)


#: PyYAML's problems in the words of a trainer editing a file (its own text is English)
_YAML_PROBLEMS = (
    (re.compile(r"found (?:a )?(?:tab character|character '\\t')"), "用了制表符（⇥）：缩进只能用空格键"),
    (re.compile(r"mapping values are not allowed"),
     "这里不能再出现“键: 值”：多半是上一行缩进不对，或值里有冒号（整段值请加引号）"),
    (re.compile(r"could not find expected ':'"), "少了冒号“:”，或者这一行的缩进不对"),
    (re.compile(r"did not find expected key"), "缩进不对：这一行和同级的键没有对齐"),
    (re.compile(r"did not find expected '-' indicator"), "列表的缩进不对：每一项应以对齐的“- ”开头"),
    (re.compile(r"did not find expected ',' or '\]'"), "方括号列表没有闭合：缺少“,”或“]”"),
    (re.compile(r"did not find expected ',' or '\}'"), "花括号没有闭合：缺少“,”或“}”"),
    (re.compile(r"found unexpected end of stream"), "文件在引号或括号闭合之前就结束了"),
    (re.compile(r"found unexpected ':'"), "出现了多余的冒号：值里有冒号时请给整个值加引号"),
    (re.compile(r"found undefined alias"), "用了未定义的别名（*名称）"),
    (re.compile(r"found character '(.)' that cannot start any token"), "值不能以“{0}”开头：请给整个值加引号"),
    (re.compile(r"expected <block end>, but found"), "缩进不一致：这一行和上面同级的内容没有对齐"),
    (re.compile(r"did not find expected node content"), "这里缺少内容"),
    (re.compile(r"found duplicate anchor"), "锚点（&名称）重复"),
)


def yaml_problem(exc: yaml.YAMLError, source: str = "", mark=None) -> str:
    """What is wrong, in Chinese, for a PyYAML error (its problem text, or the whole message, is English)."""
    text = f"{getattr(exc, 'problem', None) or ''} {exc}"
    if "cannot start any token" in text and mark is not None:
        # The C parser does not name the character: read it from the source at the error's mark.
        lines = source.splitlines()
        row = lines[mark.line] if mark.line < len(lines) else ""
        char = row[mark.column] if mark.column < len(row) else ""
        if char == "\t" or "\t" in row[:mark.column + 1]:
            return "用了制表符（⇥）：缩进只能用空格键"
        if char:
            return f"值不能以“{char}”开头：请给整个值加引号"
    for pattern, message in _YAML_PROBLEMS:
        match = pattern.search(text)
        if match:
            return message.replace("{0}", match.group(1)) if match.groups() else message
    return "格式不对：请检查这一行及上一行的缩进、冒号和引号"


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)---[ \t]*(?:\r?\n|\Z)", re.S)


def split_front_matter(text: str, path: str) -> tuple[dict, Located, str, int]:
    """Split a Markdown file into (front matter, its lines, body, body's first line)."""
    text = text.lstrip("\ufeff")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ContentErrors([ContentError(path, 1, "缺少文件头（以 --- 开始和结束的 YAML 前置信息）")])
    # Offset by one line: the front matter starts after the opening '---'. Errors too, so that every line named is
    # the file's own (a broken line 5 of the file reads :5, not the 4th line of the YAML block).
    try:
        data, located = load_yaml(match.group(1), path)
    except ContentErrors as exc:
        # A problem found at the block's end (an unclosed bracket) is named at its last line, not at the '---'.
        last = match.group(1).count("\n") + 2
        raise ContentErrors([dataclasses.replace(e, line=min(e.line + 1, last)) for e in exc.errors]) from None
    shifted = Located({k: v + 1 for k, v in located._lines.items()})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ContentErrors([ContentError(path, 2, "文件头必须是“键: 值”形式的 YAML 映射")])
    body = text[match.end():]
    body_line = text[: match.end()].count("\n") + 1
    return data, shifted, body, body_line
