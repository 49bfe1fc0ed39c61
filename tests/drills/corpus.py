"""The labelled drill-report corpus against the engine, from the command line.

    .venv/bin/python -m tests.drills.corpus --split tune [--details]
    .venv/bin/python -m tests.drills.corpus --split holdout

prints exact and verdict agreement and the confusion by rule. Drills are read
from the shipped files with ``load_drill``, the parser and model-report check
the content importer runs. The holdout split is for the final figure only: do
not tune rules on its disagreements.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lms.drills.agreement import SPLITS, compare, format_agreement, load_corpus
from lms.drills.content import Drill, load_drill, parse_taxonomy

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "drill_corpus"
BANK = ROOT / "question_bank"


def shipped_drills(bank: Path = BANK) -> dict[str, Drill]:
    """The shipped drills by code, parsed and checked as `content import` does."""
    taxonomy_path = bank / "taxonomy.yaml"
    taxonomy = parse_taxonomy(taxonomy_path.read_text(encoding="utf-8"), str(taxonomy_path))
    drills = {}
    for path in sorted((bank / "drills").glob("*.yaml")):
        drill = load_drill(path.read_text(encoding="utf-8"), str(path), taxonomy)
        drills[drill.code] = drill
    return drills


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Agreement of the drill checks with the labelled corpus")
    parser.add_argument("--split", choices=SPLITS, default="tune")
    parser.add_argument("--details", action="store_true", help="list each disagreeing report")
    args = parser.parse_args(argv)
    agreement = compare(load_corpus(CORPUS), shipped_drills(), args.split)
    print(format_agreement(agreement, details=args.details))
    return 0


if __name__ == "__main__":
    sys.exit(main())
