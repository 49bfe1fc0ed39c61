"""Parse a course folder (course.md + NN-slug.md + images/PDFs): pure, no database.

Every problem is collected as ``path:line: message`` and the folder is
rejected whole. References to the database (org code, quiz code) are checked
by the importer, which gets their lines from the parsed result.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re

from lms.contentfile import ContentError, ContentErrors, Located, split_front_matter
from lms.courses.render import MarkdownRefused, check_markdown

LEVELS = ("county", "township", "village")
CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LESSON_NAME = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
IMAGE_REF = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
COURSE_KEYS = {"code", "title", "level", "org", "hours", "quiz", "tags"}
LESSON_KEYS = {"title", "minutes"}
MAX_ASSET_BYTES = 10 * 1024 * 1024
MAX_TITLE = 200

#: extension -> (content type, magic-byte check)
ASSET_TYPES = {
    ".png": ("image/png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    ".jpg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    ".jpeg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    ".gif": ("image/gif", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
    ".pdf": ("application/pdf", lambda b: b.startswith(b"%PDF-")),
}


def sha256(data: bytes | str) -> str:
    """Hex digest used to skip unchanged files and versions."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


@dataclasses.dataclass
class ParsedLesson:
    slug: str
    position: int
    title: str
    minutes: int
    body: str
    filename: str
    path: str
    file_hash: str
    body_line: int = 1


@dataclasses.dataclass
class ParsedAsset:
    filename: str
    content_type: str
    data: bytes
    content_hash: str


@dataclasses.dataclass
class ParsedCourse:
    code: str
    title: str
    level: str
    org_code: str | None
    hours: float
    quiz_code: str | None
    tags: list[str]
    summary: str
    path: str
    file_hash: str
    #: lines of keys the importer checks against the database
    org_line: int
    quiz_line: int
    lessons: list[ParsedLesson]
    assets: list[ParsedAsset]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _unknown_keys(meta: dict, allowed: set, path: str, loc: Located, errors: list) -> None:
    for key in meta:
        if key not in allowed:
            errors.append(ContentError(path, loc.line(key), f"未知字段“{key}”（可用：{'、'.join(sorted(allowed))}）"))


def _title(meta: dict, path: str, loc: Located, errors: list) -> str:
    title = meta.get("title")
    if title is None or (isinstance(title, str) and not title.strip()):
        errors.append(ContentError(path, loc.line("title"), "缺少标题（title）"))
        return ""
    if not isinstance(title, str):
        errors.append(ContentError(path, loc.line("title"), "标题（title）必须是文字"))
        return ""
    if len(title.strip()) > MAX_TITLE:
        errors.append(ContentError(path, loc.line("title"), f"标题（title）不能超过 {MAX_TITLE} 个字"))
    return title.strip()


def parse_course_meta(text: str, path: str, folder: str, errors: list) -> tuple[dict, str, Located]:
    """Validate course.md's front matter; return (clean fields, summary body, lines)."""
    try:
        meta, loc, body, _ = split_front_matter(text, path)
    except ContentErrors as exc:
        errors.extend(exc.errors)
        return {}, "", Located({(): 1})
    _unknown_keys(meta, COURSE_KEYS, path, loc, errors)
    code = meta.get("code")
    if code is None:
        errors.append(ContentError(path, loc.line("code"), "缺少课程编码（code）"))
    elif not isinstance(code, str) or not CODE.match(code):
        errors.append(ContentError(path, loc.line("code"), "课程编码（code）只能用小写字母、数字和连字符，例如 county-grid-duties"))
    elif code != folder:
        errors.append(ContentError(path, loc.line("code"), f"课程编码“{code}”必须与文件夹名“{folder}”相同"))
    title = _title(meta, path, loc, errors)
    level = meta.get("level")
    if level not in LEVELS:
        shown = "（缺少）" if level is None else f"“{level}”"
        errors.append(ContentError(path, loc.line("level"),
                                   f"级别（level）{shown}无效：应为 county（县训）、township（乡培）或 village（村练）"))
    org = meta.get("org")
    if org is not None and (not isinstance(org, str) or not org.strip()):
        errors.append(ContentError(path, loc.line("org"), "所属组织（org）必须是组织编码，例如 HX01"))
        org = None
    hours = meta.get("hours", 0)
    if not _is_number(hours) or hours < 0 or hours > 200:
        errors.append(ContentError(path, loc.line("hours"), f"学时（hours）必须是 0 到 200 之间的数字，现在是“{hours}”"))
        hours = 0
    quiz = meta.get("quiz")
    if quiz is not None and (not isinstance(quiz, str) or not CODE.match(quiz)):
        errors.append(ContentError(path, loc.line("quiz"), "测验编码（quiz）只能用小写字母、数字和连字符"))
        quiz = None
    tags = meta.get("tags", [])
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[,，、]\s*", tags) if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, (str, int)) and not isinstance(t, bool) for t in tags):
        errors.append(ContentError(path, loc.line("tags"), "标签（tags）必须是文字列表，例如 [事件上报, 网格App]"))
        tags = []
    fields = {"code": code, "title": title, "level": level, "org": org.strip() if isinstance(org, str) else None,
              "hours": float(hours), "quiz": quiz, "tags": [str(t).strip() for t in tags if str(t).strip()]}
    return fields, body.strip(), loc


def _check_body(body: str, path: str, body_line: int, errors: list) -> None:
    """The renderer's input limits, reported at the file's line (the web editor gives the same refusal)."""
    try:
        check_markdown(body)
    except MarkdownRefused as exc:
        errors.append(ContentError(path, body_line + exc.line - 1, exc.message))


def parse_lesson(text: str, path: str, filename: str, errors: list) -> ParsedLesson | None:
    """Validate one NN-slug.md lesson file."""
    match = LESSON_NAME.match(filename)
    if not match:
        errors.append(ContentError(path, 1, "课时文件名必须是“两位序号-英文短名.md”，例如 01-report-elements.md"))
        return None
    try:
        meta, loc, body, body_line = split_front_matter(text, path)
    except ContentErrors as exc:
        errors.extend(exc.errors)
        return None
    before = len(errors)
    _unknown_keys(meta, LESSON_KEYS, path, loc, errors)
    title = _title(meta, path, loc, errors)
    minutes = meta.get("minutes")
    if minutes is None:
        errors.append(ContentError(path, loc.line("minutes"), "缺少预计学习分钟数（minutes）"))
    elif not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 600:
        errors.append(ContentError(path, loc.line("minutes"), f"学习分钟数（minutes）必须是 1 到 600 的整数，现在是“{minutes}”"))
    if not body.strip():
        errors.append(ContentError(path, body_line, "课时正文是空的"))
    _check_body(body, path, body_line, errors)
    if len(errors) > before:
        return None
    return ParsedLesson(slug=match.group(2), position=int(match.group(1)), title=title, minutes=minutes,
                        body=body, filename=filename, path=path, file_hash="", body_line=body_line)


def _image_refs(text: str) -> list[tuple[int, str]]:
    refs = []
    for number, line in enumerate(text.splitlines(), 1):
        for ref in IMAGE_REF.findall(line):
            refs.append((number, ref))
    return refs


#: how deep a course folder's subfolders may go (images/, images/flood/ …)
MAX_FOLDER_DEPTH = 3


def read_course_files(folder) -> dict[str, bytes]:
    """A course folder's files by relative POSIX name (``course.md``, ``images/flow.png``): subfolders included
    up to MAX_FOLDER_DEPTH, names starting with '.' or '_' skipped, symbolic links not followed (the import refuses
    those leading outside on its own)."""
    from pathlib import Path  # noqa: PLC0415 (parsers above stay path-free)

    root = Path(folder)
    files: dict[str, bytes] = {}

    def walk(directory: Path, prefix: str, depth: int) -> None:
        for path in sorted(directory.iterdir()):
            if path.name.startswith(".") or path.is_symlink() and path.is_dir():
                continue
            if path.is_dir():
                if depth < MAX_FOLDER_DEPTH and not path.name.startswith("_"):
                    walk(path, f"{prefix}{path.name}/", depth + 1)
            elif path.is_file():
                files[prefix + path.name] = path.read_bytes()

    walk(root, "", 0)
    return files


_SAFE_PART = re.compile(r"^[^\\/:*?\"<>|\x00-\x1f]+$")


def asset_path_problem(ref: str) -> str | None:
    """Why a relative asset path (a file name or an image link) may not be used, or None: no '..', no absolute
    paths, no backslashes or empty parts, at most MAX_FOLDER_DEPTH folders deep."""
    parts = ref.removeprefix("./").split("/")
    if ref.startswith(("/", "\\")) or "\\" in ref:
        return "必须是课程文件夹内的相对路径（用 / 分隔，例如 images/flow.png）"
    if any(part in ("", ".", "..") for part in parts):
        return "不能包含 ..、. 或空的文件夹名（不能指向课程文件夹以外）"
    if len(parts) > MAX_FOLDER_DEPTH + 1 or not all(_SAFE_PART.match(part) for part in parts):
        return f"文件夹最多 {MAX_FOLDER_DEPTH} 层，文件名不能含 \\ : * ? \" < > | 等字符"
    return None


def parse_course_folder(folder: str, rel: str, files: dict[str, bytes]) -> ParsedCourse:
    """Parse a course folder given its files' bytes by name; rel is the folder's path for messages."""
    errors: list[ContentError] = []
    course_path = f"{rel}/course.md"

    def text_of(name: str) -> str | None:
        try:
            return files[name].decode("utf-8")
        except UnicodeDecodeError:
            errors.append(ContentError(f"{rel}/{name}", 1, "文件不是 UTF-8 编码"))
            return None

    course_text = text_of("course.md")
    fields, summary, loc = parse_course_meta(course_text, course_path, folder, errors) if course_text is not None \
        else ({}, "", Located({(): 1}))
    lessons: list[ParsedLesson] = []
    assets: list[ParsedAsset] = []
    for name in sorted(files):
        if name == "course.md" or name.startswith("."):
            continue
        path = f"{rel}/{name}"
        suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if "/" in name and (problem := asset_path_problem(name)) is not None:
            errors.append(ContentError(path, 1, f"文件路径{problem}"))
            continue
        if "/" in name and suffix not in ASSET_TYPES:
            # Subfolders hold images and PDFs; lessons and anything else sit in the course folder itself.
            if suffix == ".md":
                errors.append(ContentError(path, 1, "课时文件必须放在课程文件夹的第一层，子文件夹只放图片和 PDF"))
            continue
        if suffix == ".md":
            text = text_of(name)
            if text is None:
                continue
            lesson = parse_lesson(text, path, name, errors)
            if lesson:
                lesson.file_hash = sha256(files[name])
                lessons.append(lesson)
        elif suffix in ASSET_TYPES:
            content_type, looks_right = ASSET_TYPES[suffix]
            data = files[name]
            if len(data) > MAX_ASSET_BYTES:
                errors.append(ContentError(path, 1, f"附件太大（{len(data) // 1024 // 1024} MB），不能超过 10 MB"))
            elif not looks_right(data):
                errors.append(ContentError(path, 1, f"文件内容与扩展名 {suffix} 不符（不是 {content_type}）"))
            else:
                assets.append(ParsedAsset(name, content_type, data, sha256(data)))
    seen_numbers: dict[int, str] = {}
    seen_slugs: dict[str, str] = {}
    for lesson in lessons:
        if lesson.position in seen_numbers:
            errors.append(ContentError(lesson.path, 1, f"序号 {lesson.position:02d} 与 {seen_numbers[lesson.position]} 重复"))
        if lesson.slug in seen_slugs:
            errors.append(ContentError(lesson.path, 1, f"课时短名“{lesson.slug}”与 {seen_slugs[lesson.slug]} 重复"))
        seen_numbers.setdefault(lesson.position, lesson.filename)
        seen_slugs.setdefault(lesson.slug, lesson.filename)
    asset_names = {a.filename for a in assets}
    for lesson in lessons:
        for number, ref in _image_refs(lesson.body):
            line = lesson.body_line + number - 1
            if "://" in ref or ref.startswith(("/", "data:")):
                errors.append(ContentError(lesson.path, line, f"图片“{ref[:60]}”必须是课程文件夹中的文件（相对路径）"))
            elif (problem := asset_path_problem(ref)) is not None:
                errors.append(ContentError(lesson.path, line, f"图片“{ref[:60]}”的路径{problem}"))
            elif ref.removeprefix("./") not in asset_names:
                errors.append(ContentError(lesson.path, line, f"图片“{ref}”在课程文件夹中不存在"))
    if not lessons and not any(e.path != course_path and e.path.endswith(".md") for e in errors):
        errors.append(ContentError(course_path, 1, "课程没有课时文件（NN-短名.md）"))
    if errors:
        raise ContentErrors(errors)
    return ParsedCourse(
        code=fields["code"], title=fields["title"], level=fields["level"], org_code=fields["org"],
        hours=fields["hours"], quiz_code=fields["quiz"], tags=fields["tags"], summary=summary, path=course_path,
        file_hash=sha256(files["course.md"]), org_line=loc.line("org"), quiz_line=loc.line("quiz"),
        lessons=sorted(lessons, key=lambda l: l.position), assets=assets)
