"""Question-bank file formats: pure parsers and exporters, no database.

``yaml_bank`` and ``quiz_file`` read the shipped content under question_bank/;
``gift``, ``aiken`` and ``xlsx`` import (and GIFT/Excel export) a trainer's
questions. Every parser raises ``lms.contentfile.ContentErrors`` with
``path:line`` for each problem and returns ``lms.quizzes.questions.Question``.
"""
from __future__ import annotations

from pathlib import PurePath

from lms.contentfile import ContentError, ContentErrors
from lms.quizzes.formats import aiken, gift, xlsx

#: Import formats by file extension (``content import-bank`` infers the format from it).
EXTENSIONS = {".xlsx": "xlsx", ".gift": "gift", ".txt": "aiken", ".aiken": "aiken"}
IMPORT_FORMATS = ("xlsx", "gift", "aiken")
EXPORT_FORMATS = ("gift", "xlsx")


def detect_format(path: str) -> str | None:
    """The import format implied by a file name (``.xlsx``, ``.gift``, ``.txt``/``.aiken``), or None."""
    name = PurePath(path).name.lower()
    if name.endswith(".gift.txt"):
        return "gift"
    return EXTENSIONS.get(PurePath(name).suffix)


def decode_text(data: bytes, path: str) -> str:
    """Bytes of a text question file → str: UTF-8 (with or without BOM), else GB18030 from Chinese Windows."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ContentErrors([ContentError(path, 1, "无法识别文件编码：请另存为 UTF-8")])


def parse_question_file(data: bytes, path: str, bank: str, fmt: str | None = None,
                        existing_ids=frozenset()) -> tuple[list, list]:
    """Import a trainer's file of any supported format: (questions, warnings); ContentErrors when malformed."""
    fmt = fmt or detect_format(path)
    if fmt == "xlsx":
        return xlsx.parse_xlsx(data, path, bank, existing_ids), []
    if fmt == "gift":
        return gift.parse_gift(decode_text(data, path), path, bank, existing_ids)
    if fmt == "aiken":
        return aiken.parse_aiken(decode_text(data, path), path, bank, existing_ids), []
    raise ContentErrors([ContentError(path, 1, f"不支持的文件格式：{fmt or PurePath(path).suffix or '（无扩展名）'}，"
                                               "请用 xlsx、gift 或 aiken")])


def export_questions(questions, fmt: str) -> bytes:
    """A bank's questions as GIFT (UTF-8 text) or Excel bytes."""
    if fmt == "gift":
        return gift.export_gift(questions).encode("utf-8")
    if fmt == "xlsx":
        return xlsx.export_xlsx(questions)
    raise ValueError(f"unknown export format {fmt!r}")
