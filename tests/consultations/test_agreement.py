"""The consultation checks agree with the county reviewer's labels, on the tune split and on the holdout fifth.

tests/data/consultation_corpus/ (written by another session before the rules were tuned, see its README) holds
answers as grid workers say them, each labelled accepted/returned with the exact rules that must fail. The rules
were tuned on the ``tune`` split only; the ``holdout`` split was run once the tuning was done.

Recorded when the rules were tuned (240 answers, 16 consultations; tune first, holdout run once afterwards, no
change since):
tune 180/192 exact (93.8 %), 186/192 verdict (96.9 %); holdout 40/48 exact (83.3 %), 42/48 verdict (87.5 %).
The issue's goal of 90 % verdict agreement on the holdout fifth is NOT met (87.5 %, i.e. one answer short of
43/48 = 89.6 % and two of 44/48). Holdout confusion: key_points 2 false / 2 missed fails, no_wrong_claims
3 missed, plain_language 1 false, referral and no_overpromise none. Five of the six tune verdict disagreements
are answers the reviewer accepted for wording outside a point's ``any`` list (the corpus README names them);
adding such wordings to the files is the content's remedy, not the engine's.
The thresholds below sit at or a little under the recorded figures, so a change that costs agreement fails here.

Generalisation (H14e, tuned on the tune split only, holdout not run): a third tune batch (80 answers, -021…-025,
written in fresh words by a session that never saw the checker) stood at 56/80 verdict (70.0 %), 39/80 exact.
The engine now folds dialect and official names, accepts a point said in its own words within one sentence
(OVERLAP of its content words, numbers included), finds wrong claims with a short gap inside, promises said other
ways and the law read out after a bare citation. Engine alone (key files unchanged): old 192 tune 192/192 verdict,
186/192 exact; new 80 72/80 verdict, 61/80 exact. With the wordings of the tune disagreements added to the files:
tune 272/272 verdict (100 %), 267/272 exact (98.2 %): old 192 192/192 and 187/192, new 80 80/80 and 80/80.

Held aside, measured once after all of the above (the lead, 2026-12-07): the holdout is the first batch's fifth
(-005/-010/-015, 48 answers) plus a second batch (-016…-020, 80 answers) written by a session that never saw the
checker, so the tuning above could not have been fitted to it. Before the generalisation the second batch stood at
65/80 verdict (81.2 %), 52/80 exact, the first fifth at 42/48; after: first fifth 45/48 verdict (93.8 %),
43/48 exact (89.6 %); second batch 72/80 verdict (90.0 %), 62/80 exact (77.5 %); all 128: 117/128 verdict
(91.4 %), 105/128 exact (82.0 %). The issue's goal (90 % verdict on what was held aside) is met, narrowly on the
second batch: exact agreement (the failing rules too) is the weaker figure, mostly wrong claims said in words
no list holds (no_wrong_claims missed 10 of 24).
"""
from __future__ import annotations

import pytest

from lms.consultations import queries
from lms.consultations.agreement import compare, format_agreement, load_corpus, parse_corpus_file
from lms.consultations.content import RULE_NAMES, from_definition
from lms.contentfile import ContentErrors
from lms.extensions import db
from tests.consultations.corpus import BANK, CORPUS, shipped_consultations
from tests.consultations.factories import run_importer
from tests.factories import make_user

#: what each split must keep (the issue's goal on what was held aside is 0.90 verdict agreement)
TUNE_VERDICT = 0.99
TUNE_EXACT = 0.97
HOLDOUT_VERDICT = 0.90
HOLDOUT_EXACT = 0.80

pytestmark = pytest.mark.skipif(not CORPUS.is_dir() or not any(CORPUS.glob("*.yaml")),
                                reason=f"the labelled consultation corpus is not there yet ({CORPUS})")


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(CORPUS)


def _explain(agreement) -> str:
    return "\n" + format_agreement(agreement, details=True)


def test_corpus_is_well_formed_and_names_shipped_consultations(corpus):
    items = shipped_consultations()
    assert len(items) >= 15
    assert len(corpus) >= 150 and len({c.id for c in corpus}) == len(corpus)
    assert {c.drill for c in corpus} <= set(items)
    # Held aside: every fifth answer of the first batch (-005, -010, -015) and the whole second batch (-016…-020).
    numbers = {c.id: int(c.id.rsplit("-", 1)[1]) for c in corpus}
    holdout = {c.id for c in corpus if c.split == "holdout"}
    assert holdout == {i for i, n in numbers.items() if (n <= 15 and n % 5 == 0) or 16 <= n <= 20}
    assert 0.15 * len(corpus) <= len(holdout) <= 0.35 * len(corpus)
    assert {rule for c in corpus for rule in c.failing} == set(RULE_NAMES)


def test_tune_split_agreement(corpus):
    agreement = compare(corpus, shipped_consultations(), "tune")
    assert agreement.verdict_rate >= TUNE_VERDICT, _explain(agreement)
    assert agreement.exact_rate >= TUNE_EXACT, _explain(agreement)


def test_holdout_split_keeps_its_recorded_agreement(corpus):
    agreement = compare(corpus, shipped_consultations(), "holdout")
    assert agreement.total >= 30
    assert agreement.verdict_rate >= HOLDOUT_VERDICT, format_agreement(agreement)  # figures only: never tune on it
    assert agreement.exact_rate >= HOLDOUT_EXACT, format_agreement(agreement)


def test_the_api_grades_the_corpus_as_the_engine_does_on_the_imported_files(api, tree, corpus):
    report = run_importer(BANK)
    db.session.commit()
    assert report.errors == []
    stored = {code: from_definition(queries.get_consultation(code).definition, code)
              for code in shipped_consultations()}
    expected = compare(corpus, stored, "tune")
    make_user("corpus-worker", "worker", tree["g1"], name="语料员")
    api.login("corpus-worker")
    for outcome in expected.outcomes[::4]:  # a quarter of them through HTTP: the same engine, not a copy
        body = api.post(f"/api/v1/consultations/{outcome.case.drill}/answers",
                        json={"answer": outcome.case.report["answer"]}).get_json()
        assert (body["verdict"], {c["rule"] for c in body["checks"] if not c["passed"]}) == \
            (outcome.verdict, set(outcome.failed)), outcome.case.id


def test_a_bad_label_is_reported_with_its_line():
    text = ("consultation: x\nanswers:\n  - id: a-1\n    split: tune\n    verdict: accepted\n"
            "    failing: [referral]\n    answer: 好\n  - id: a-2\n    split: later\n    verdict: returned\n"
            "    failing: [spelling]\n    answer: 好\n")
    with pytest.raises(ContentErrors) as caught:
        parse_corpus_file(text, "c.yaml")
    found = {(e.line, e.message.split("：")[0].split(" ")[0]) for e in caught.value.errors}
    assert {(6, "verdict"), (9, "split"), (11, "failing")} <= found
