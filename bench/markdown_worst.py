"""Worst Markdown inputs for the one renderer (lms/courses/render.py): time each, before and after the limits.

Each family is built as large as the limits allow (200,000 characters, at most 200 '[' per paragraph and
4,000 in all, 400 '*'/'_' per paragraph, 16 nesting markers a line, 64 columns of indentation, every tag
closed within 1,000 characters), plus the probe's input and a few past the limits, which must be refused
at once. For each input the table gives:

- raw: python-markdown + nh3 alone, the way the app rendered before the limits (capped at --cap seconds
  by SIGALRM, shown as "> cap");
- guarded: render_markdown as the app calls it now: "refused" (422, with how long the refusal took),
  "timeout" (the time budget of render.TIME_BUDGET seconds struck), or the rendering time.

Run: .venv/bin/python bench/markdown_worst.py [--only NAME ...] [--cap 20]
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import markdown  # noqa: E402
from markdown.extensions.toc import slugify_unicode  # noqa: E402

from lms.courses import render  # noqa: E402

SIZE = render.MAX_CHARS


def _fill(block: str, sep: str = "\n\n", size: int = SIZE) -> str:
    """Paragraphs of `block` up to `size` characters."""
    count = max(1, (size - len(block)) // (len(block) + len(sep)) + 1)
    return sep.join([block] * count)[:size]


def _para(unit: str, per_block: int, filler: int = 0) -> str:
    return unit * per_block + "x" * filler


def families() -> dict[str, str]:
    per = render.MAX_BRACKETS_PER_BLOCK
    total_blocks = render.MAX_BRACKETS // per
    long_para = SIZE // total_blocks - 10  # paragraphs as long as 4,000 brackets allow
    items = {
        # the probe's, and other inputs past the limits: refused before rendering
        "probe: '[a](' × 49,000": "[a](" * 49_000,
        "'[a](b)' × 1,333 in one paragraph (8 KB)": "[a](b)" * 1_333,
        "'*a ' × 2,000 nested emphasis (RecursionError)": "*a " * 2_000 + "b" + " c*" * 2_000,
        "'<a ' × 100 unclosed, 200 KB": ("<a " + "x " * 1_000) * 100,
        "'- ' × 10,000 list markers on one line": "- " * 10_000 + "a",
        # inside the limits, as big as they allow
        "links: 200 '[a](b)' × 20 paragraphs": _fill(_para("[a](b)", per), size=len(_para("[a](b)", per)) * 20 + 40),
        "links: 200 '[a](b)' + filler, 20 × 10 KB": "\n\n".join(
            [("[a](b) " * per + "x" * (long_para - 7 * per))] * total_blocks),
        "unclosed '[a](' 200 + filler, 20 × 10 KB": "\n\n".join(
            [("[a](" * per + "y" * (long_para - 4 * per))] * total_blocks),
        "images: 200 '![a](b)' × 20 paragraphs": "\n\n".join([("![a](b)" * per)] * total_blocks),
        "link targets 1,900 chars, 200 a paragraph": "\n\n".join(
            [(f"[a]({'b' * 1_900})" * 5)] * (SIZE // 9_600)),
        "emphasis: 400 '*a' a paragraph, 200 KB": _fill("*a" * 200 + " " + "a*" * 200),
        "emphasis: '**a** ' × 100 a paragraph, 200 KB": _fill("**a** " * 100),
        "tags: '<a b=\"c\">' + 990 chars, 200 KB": ("<a " + "b" * 990 + ">") * (SIZE // 994),
        "tags: '<b>a</b>' × 25,000": "<b>a</b>" * (SIZE // 8),
        "tags: '<span>' nested 6,000 deep": "<span>" * 6_000 + "a" + "</span>" * 6_000,
        "tags: '<!-- x -->' × 20,000": "<!-- x -->" * (SIZE // 10),
        "CDATA '<![CDATA[' + 990 chars, 200 KB": ("<![CDATA[" + "x" * 990 + ">") * (SIZE // 1_000),
        "autolinks '<http://a.b/c>' × 14,000": "<http://a.b/c>" * (SIZE // 14),
        "quotes: 16 '> ' × 6,000 lines": _fill("> " * 16 + "a", sep="\n"),
        "lists: 16 '- ' × 6,000 lines": _fill("- " * 16 + "a", sep="\n"),
        "lists: indented to 64 columns, 200 KB": "".join(
            "    " * (i % 17) + "- a\n" for i in range(SIZE // 40)),
        "ordered '1. ' 16 deep × 4,000 lines": _fill("1. " * 16 + "a", sep="\n"),
        "table: 1 row × 33,000 columns": "|a" * (SIZE // 6) + "\n" + "|-" * (SIZE // 6) + "\n" + "|b" * (SIZE // 6),
        "table: 33,000 rows": "|a|b|\n|-|-|\n" + "|x|y|\n" * ((SIZE - 12) // 6),
        "setext headings 'a\\n=' × 50,000": "a\n=\n" * (SIZE // 4),
        "ATX headings '# a' × 50,000": "# a\n" * (SIZE // 4),
        "backticks '`a`' × 66,000": "`a`" * (SIZE // 3),
        "backticks unclosed '`a' × 100,000": "`a" * (SIZE // 2),
        "fenced '```' × 50,000": "```\n" * (SIZE // 4),
        "entities '&amp;' × 40,000": "&amp;" * (SIZE // 5),
        "escapes '\\\\*' × 100,000": "\\*" * (SIZE // 2),
        "hard breaks 'a  \\n' × 50,000": "a  \n" * (SIZE // 4),
        "long line 200,000 chars": "a" * SIZE,
        "Chinese text 200,000 chars": "网格员走访入户登记" * (SIZE // 9),
    }
    return items


def _raw_markdown() -> markdown.Markdown:
    return markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists", "toc"],
                             extension_configs={"toc": {"slugify": slugify_unicode, "permalink": False}},
                             output_format="html")


class _Cap(BaseException):
    pass


def _timed(fn, cap: float | None):
    """(seconds, outcome) of fn(); cap None: no timer of our own, so render's time budget may use SIGALRM."""
    def expired(signum, frame):
        raise _Cap

    previous = signal.signal(signal.SIGALRM, expired) if cap else None
    if cap:
        signal.setitimer(signal.ITIMER_REAL, cap)
    start = time.perf_counter()
    try:
        fn()
        outcome = "ok"
    except _Cap:
        outcome = "cap"
    except render.MarkdownRefused as exc:
        outcome = "refused: " + exc.message[:38]
    except RecursionError:
        outcome = "RecursionError (500)"
    finally:
        if cap:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    return time.perf_counter() - start, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="substrings of family names")
    parser.add_argument("--cap", type=float, default=20.0, help="seconds before a raw rendering is abandoned")
    parser.add_argument("--no-raw", action="store_true", help="skip the unguarded column")
    args = parser.parse_args()
    print(f"limits: {render.MAX_CHARS:,} chars; '[' {render.MAX_BRACKETS_PER_BLOCK}/paragraph, "
          f"{render.MAX_BRACKETS:,} in all; '*_' {render.MAX_EMPHASIS_PER_BLOCK}/paragraph; nesting "
          f"{render.MAX_NESTING}; indent {render.MAX_INDENT}; tags close within {render.MAX_TAG_CHARS}; "
          f"link window {render.LINK_WINDOW}; time budget {render.TIME_BUDGET:g} s")
    print()
    print("| input | chars | raw (before) s | guarded (now) s | guarded outcome |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, text in families().items():
        if args.only and not any(o in name for o in args.only):
            continue
        if args.no_raw:
            raw = ""
        else:
            md = _raw_markdown()
            seconds, outcome = _timed(lambda: render.sanitise(md.convert(text)), args.cap)
            raw = f"> {args.cap:g}" if outcome == "cap" else (
                f"{seconds:.2f}" if outcome == "ok" else f"{seconds:.2f} {outcome}")
        seconds, outcome = _timed(lambda: render.render_markdown(text), None)
        if outcome == "ok":
            outcome = "rendered"
        elif "秒内未能排版完成" in outcome:
            outcome = "timeout (422)"
        elif outcome.startswith("refused"):
            outcome = "refused (422)"
        print(f"| {name} | {len(text):,} | {raw} | {seconds:.3f} | {outcome} |", flush=True)


if __name__ == "__main__":
    main()
