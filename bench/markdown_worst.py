"""Worst Markdown inputs for the one renderer (lms/courses/render.py): time each, before and after the limits.

Each family is built as large as the limits allow (200,000 characters, at most 200 '[' per paragraph and
4,000 in all, 400 '*'/'_' per paragraph, 16 nesting markers a line, 64 columns of indentation, every tag
closed within 1,000 characters), plus the probe's input and a few past the limits, which must be refused
at once. For each input the table gives:

- raw: python-markdown + nh3 alone, the way the app rendered before the limits (capped at --cap seconds
  by SIGALRM, shown as "> cap");
- limits only: the input limits and the link window without the time budget (what a threaded server, where
  SIGALRM cannot be used, would spend), capped like raw;
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


def _blocks(unit: str, per: int | None = None, head: str = "") -> str:
    """Paragraphs as long as the paragraph limit allows (or `per` units each), blank lines between, to 200 KB."""
    room = render.MAX_BLOCK_CHARS - len(head) - 2
    block = head + unit * (per or room // len(unit))
    return "\n\n".join([block.rstrip("\n")] * max(1, SIZE // (len(block) + 2)))


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
        "'<a ' × 100 unclosed, 200 KB": ("<a " + "x " * 990) * 100,
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
        "emphasis: 400 '*a' a paragraph, 200 KB": _fill("*a" * 100 + " " + "a*" * 100 + " " + "x" * 19_000),
        "emphasis: '**a** ' × 100 a paragraph, 200 KB": _fill("**a** " * 100),
        "tags: '<a b=\"c\">' + 990 chars, 20 KB paragraphs": _blocks("<a " + "b" * 990 + ">"),
        "comments '<!-- x -->', 20 KB paragraphs": _blocks("<!-- x -->"),
        "tags: '<span>' nested 1,500 deep × 10 paragraphs": _blocks("<span>" * 1_500 + "a" + "</span>" * 1_500, 1),
        "CDATA '<![CDATA[' + 990 chars, 20 KB paragraphs": _blocks("<![CDATA[" + "x" * 990 + ">"),
        "quotes: 16 '> ' a line, 20 KB paragraphs": _blocks("> " * 16 + "a\n"),
        "lists: 16 '- ' a line, 20 KB paragraphs": _blocks("- " * 16 + "a\n"),
        "lists: indented to 64 columns, 20 KB paragraphs": _blocks(
            "".join("    " * i + "- a\n" for i in range(17))),
        "ordered '1. ' 16 deep, 20 KB paragraphs": _blocks("1. " * 16 + "a\n"),
        "table: 1 row × 3,300 columns, 20 KB tables": _blocks(
            "|a" * 1_650 + "\n" + "|-" * 1_650 + "\n" + "|b" * 1_650 + "\n", 1),
        "table: 3,300 rows, 20 KB tables": _blocks("|x|y|\n", head="|a|b|\n|-|-|\n"),
        "setext headings 'a\\n=', 20 KB paragraphs": _blocks("a\n=\n"),
        "ATX headings '# a', 20 KB paragraphs": _blocks("# a\n"),
        "backticks '`a`', 20 KB paragraphs": _blocks("`a`"),
        "backticks unclosed '`a', 20 KB paragraphs": _blocks("`a"),
        "fenced '```', 20 KB paragraphs": _blocks("```\n"),
        "entities '&amp;', 20 KB paragraphs": _blocks("&amp;"),
        "hard breaks 'a  \\n', 20 KB paragraphs": _blocks("a  \n"),
        "tags '<b>a</b>', 20 KB paragraphs": _blocks("<b>a</b>"),
        "autolinks '<http://a.b/c>', 20 KB paragraphs": _blocks("<http://a.b/c>"),
        # past the paragraph limit: what one 200 KB paragraph of them cost before
        "one paragraph: 33,000 table rows": "|a|b|\n|-|-|\n" + "|x|y|\n" * ((SIZE - 12) // 6),
        "one paragraph: setext 'a\\n=' × 50,000": "a\n=\n" * (SIZE // 4),
        "one paragraph: '&amp;' × 40,000": "&amp;" * (SIZE // 5),
        "one paragraph: 'a  \\n' × 50,000": "a  \n" * (SIZE // 4),
        "one paragraph: '<b>a</b>' × 25,000": "<b>a</b>" * (SIZE // 8),
        "escapes '\\\\*' × 100,000 (counted as emphasis)": "\\*" * (SIZE // 2),
        "long lines 'a' × 20,000, 200 KB": _blocks("a"),
        "Chinese text, 20 KB paragraphs, 200 KB": _blocks("网格员走访入户登记"),
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


def _cell(seconds: float, outcome: str, cap: float) -> str:
    if outcome == "cap":
        return f"> {cap:g}"
    if outcome.startswith("refused"):
        return "refused"
    return f"{seconds:.2f}" if outcome == "ok" else f"{seconds:.2f} {outcome}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="substrings of family names")
    parser.add_argument("--cap", type=float, default=20.0, help="seconds before a raw rendering is abandoned")
    parser.add_argument("--no-raw", action="store_true", help="skip the unguarded column")
    args = parser.parse_args()
    print(f"limits: {render.MAX_CHARS:,} chars, {render.MAX_BLOCK_CHARS:,} a paragraph; "
          f"'[' {render.MAX_BRACKETS_PER_BLOCK}/paragraph, "
          f"{render.MAX_BRACKETS:,} in all; '*_' {render.MAX_EMPHASIS_PER_BLOCK}/paragraph; nesting "
          f"{render.MAX_NESTING}; indent {render.MAX_INDENT}; tags close within {render.MAX_TAG_CHARS}; "
          f"link window {render.LINK_WINDOW}; time budget {render.TIME_BUDGET:g} s")
    print()
    print("| input | chars | raw (before) s | limits only s | guarded (now) s | guarded outcome |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, text in families().items():
        if args.only and not any(o in name for o in args.only):
            continue
        if args.no_raw:
            raw = limited = ""
        else:
            md = _raw_markdown()
            raw = _cell(*_timed(lambda: render.sanitise(md.convert(text)), args.cap), args.cap)

            def limits_only():
                render.check_markdown(text)
                render.sanitise(render._markdown().convert(text))

            limited = _cell(*_timed(limits_only, args.cap), args.cap)
            render._local.md = None  # an abandoned conversion leaves the instance half-way
        seconds, outcome = _timed(lambda: render.render_markdown(text), None)
        if outcome == "ok":
            outcome = "rendered"
        elif "秒内未能排版完成" in outcome:
            outcome = "timeout (422)"
        elif outcome.startswith("refused"):
            outcome = "refused (422)"
        print(f"| {name} | {len(text):,} | {raw} | {limited} | {seconds:.3f} | {outcome} |", flush=True)


if __name__ == "__main__":
    main()
