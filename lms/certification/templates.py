"""``courses/certificate-templates.yaml``: the county's wording per certification program.

Pure: text in, ``{program code: Template}`` out, or ``ContentErrors`` listing every problem as
``path:line: message`` (Simplified Chinese). ``content import`` stores each template on its program; the
PDF prints it, each missing key falling back to the LMS_CERTIFICATE_* setting (or the built-in wording).

    WG-SG:                       # 认证项目编码（courses/certifications.yaml）
      issuer: 红溪县委政法委        # 发证单位（县名），印在“发证单位”和落款处
      seal_text: 红溪县委政法委员会   # 电子印章环形文字
      signatory: 负责人：王建国      # 落款签发人
      wording: 经考核，……特发此证。  # 证书正文（一句话）
      footer: 本证书可扫码核验        # 页脚（可选）
"""
from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path

from lms.contentcheck.model import Finding
from lms.contentfile import ContentError, ContentErrors, load_yaml

FILENAME = "certificate-templates.yaml"

#: key -> (Chinese name, most characters): what fits its place on the A4 page
FIELDS = {
    "issuer": ("发证单位", 40),
    "seal_text": ("印章文字", 24),
    "signatory": ("签发人", 30),
    "wording": ("证书正文", 120),
    "footer": ("页脚", 60),
}
#: keys that may be left empty ("" = print none, instead of the setting)
OPTIONAL = ("seal_text", "signatory", "footer")


@dataclasses.dataclass(frozen=True)
class Template:
    """One program's wording; None = use the setting (or the built-in text)."""

    issuer: str | None = None
    seal_text: str | None = None
    signatory: str | None = None
    wording: str | None = None
    footer: str | None = None

    def as_dict(self) -> dict:
        """The stored form (Program.template): only the keys the file sets."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def parse_templates(text: str, path: str, *, known_programs: Collection[str] | None = None) -> dict[str, Template]:
    """Parse the file; ``known_programs`` (None: not checked) are the codes a template may name."""
    data, lines = load_yaml(text, path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ContentErrors([ContentError(path, 1, "文件应是“认证项目编码: 证书文字设置”的映射")])
    errors: list[ContentError] = []
    result: dict[str, Template] = {}
    known = set(known_programs) if known_programs is not None else None
    for code, entry in data.items():
        line = lines.line(code)
        if not isinstance(code, str) or not code.strip():
            errors.append(ContentError(path, line, f"认证项目编码必须是文字，而不是“{code}”"))
            continue
        if known is not None and code not in known:
            listed = "、".join(sorted(known)) or "（无）"
            errors.append(ContentError(path, line, f"未知的认证项目“{code}”：courses/certifications.yaml 中的项目有 {listed}"))
            continue
        if not isinstance(entry, dict):
            errors.append(ContentError(path, line, f"“{code}”下应逐行写 issuer、seal_text、signatory、wording、footer"))
            continue
        values = {}
        for key, value in entry.items():
            key_line = lines.line(code, key)
            if key not in FIELDS:
                names = "、".join(f"{k}（{name}）" for k, (name, _) in FIELDS.items())
                errors.append(ContentError(path, key_line, f"“{code}”下未知的设置“{key}”：可用的有 {names}"))
                continue
            name, limit = FIELDS[key]
            if value is None and key in OPTIONAL:
                value = ""
            if not isinstance(value, str):
                errors.append(ContentError(path, key_line, f"“{code}”的{name}（{key}）必须是文字"))
                continue
            value = " ".join(value.split())  # one line on the page: folded YAML, stray newlines and spaces joined
            if not value and key not in OPTIONAL:
                errors.append(ContentError(path, key_line, f"“{code}”的{name}（{key}）不能为空（不写这一行则用系统设置）"))
                continue
            if len(value) > limit:
                errors.append(ContentError(path, key_line,
                                           f"“{code}”的{name}（{key}）太长：{len(value)} 个字，最多 {limit} 个字，否则印不下"))
                continue
            values[key] = value
        result[code] = Template(**values)
    if errors:
        raise ContentErrors(errors)
    return result


def _listed_codes(path: Path) -> set[str] | None:
    """The program codes certifications.yaml lists, read leniently; None when it cannot be read at all."""
    try:
        data, _ = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, ContentErrors):
        return None
    programs = data.get("programs") if isinstance(data, dict) else None
    if not isinstance(programs, list):
        return None
    return {p["code"] for p in programs if isinstance(p, dict) and isinstance(p.get("code"), str)}


def check_file(courses_dir, program_codes: Collection[str] | None) -> list[Finding]:
    """`content check`: the templates file's problems as blocking findings (``content import`` refuses them)."""
    path = Path(courses_dir) / FILENAME
    if not path.exists():
        return []
    if program_codes is None:  # certifications.yaml did not parse (its own findings say why): its codes still count
        program_codes = _listed_codes(Path(courses_dir) / "certifications.yaml")
    shown = f"{Path(courses_dir).name}/{FILENAME}"
    try:
        parse_templates(path.read_text(encoding="utf-8"), shown, known_programs=program_codes)
    except UnicodeDecodeError:
        return [Finding(shown, 1, "parse", "文件无法导入：文件不是 UTF-8 编码", blocking=True)]
    except ContentErrors as exc:
        return [Finding(e.path, e.line, "parse", f"文件无法导入：{e.message}", blocking=True) for e in exc.errors]
    return []
