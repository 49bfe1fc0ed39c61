"""The labelled consultation corpus against the checks, from the command line.

    .venv/bin/python -m tests.consultations.corpus --split tune [--details]
    .venv/bin/python -m tests.consultations.corpus --split holdout

prints exact and verdict agreement and the confusion by rule. Consultations are
read from the shipped files with ``load_consultation``, as `content import`
reads them. The holdout split is for the final figure only: do not tune rules
on its disagreements.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lms.consultations.agreement import SPLITS, compare, format_agreement, load_corpus
from lms.consultations.content import Consultation, load_consultation

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "consultation_corpus"
BANK = ROOT / "question_bank"


def shipped_consultations(bank: Path = BANK) -> dict[str, Consultation]:
    """The shipped consultations by code, parsed and checked as `content import` does."""
    items = {}
    for path in sorted((bank / "consultations").glob("*.yaml")):
        item = load_consultation(path.read_text(encoding="utf-8"), str(path))
        items[item.code] = item
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Agreement of the consultation checks with the labelled corpus")
    parser.add_argument("--split", choices=SPLITS, default="tune")
    parser.add_argument("--details", action="store_true", help="list each disagreeing answer")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 1
    agreement = compare(load_corpus(CORPUS), shipped_consultations(), args.split)
    print(format_agreement(agreement, details=args.details))
    return 0


if __name__ == "__main__":
    sys.exit(main())
