"""Quiz factories: banks, questions and quizzes written straight to the database (committed)."""
from __future__ import annotations

import datetime as dt

from lms.extensions import db
from lms.org.queries import get_org
from lms.quizzes.models import Bank, Origin, Question, Quiz
from lms.quizzes.questions import Question as Q
from lms.quizzes.questions import answer_to_json

#: One question of each type; explanations and sources are distinctive so tests can look for leaks.
QUESTIONS = [
    Q(id="t-single", type="single", stem="城乡居民养老保险由谁缴费？",
      options={"A": "仅个人", "B": "个人缴费、集体补助、政府补贴", "C": "仅政府", "D": "仅村集体"},
      answer="B", explanation="解析甲：三方共同筹资", source="《中华人民共和国社会保险法》第二十条"),
    Q(id="t-multiple", type="multiple", stem="下列哪些属于社会保险？",
      options={"A": "养老保险", "B": "商业寿险", "C": "医疗保险", "D": "车险"},
      answer=frozenset({"A", "C"}), explanation="解析乙：养老与医疗", source="《中华人民共和国社会保险法》第二条"),
    Q(id="t-judge", type="judge", stem="网格员可以代替居民签字。", answer=False,
      explanation="解析丙：不得代签", source="县网格化管理规定第八条"),
    Q(id="t-fill", type="fill", stem="个人累计缴费满____年可按月领取养老金。", answer=(("十五", "15"),),
      explanation="解析丁：满十五年", source="《中华人民共和国社会保险法》第十六条"),
]


def make_bank(code: str = "test-bank", questions=QUESTIONS, org=None, origin=Origin.file) -> Bank:
    bank = Bank(code=code, title=f"题库{code}", org=org or get_org("HX"), origin=origin)
    db.session.add(bank)
    db.session.flush()
    for question in questions:
        db.session.add(Question(
            qid=question.id, bank_id=bank.id, type=question.type, stem=question.stem,
            text_format=question.text_format, options=dict(question.options),
            answer=answer_to_json(question.type, question.answer), explanation=question.explanation,
            source=question.source, difficulty=question.difficulty, tags=list(question.tags),
            content_hash=question.fingerprint(), origin=origin))
    db.session.commit()
    return bank


def make_quiz(code: str = "test-quiz", bank: str = "test-bank", count: int = 4, org=None, *,
              time_limit_minutes: int = 30, pass_score: int = 60, max_attempts: int | None = None,
              shuffle_options: bool = True, opens_at: dt.datetime | None = None,
              closes_at: dt.datetime | None = None) -> Quiz:
    quiz = Quiz(code=code, title=f"测验{code}", org=org or get_org("HX"),
                draws=[{"bank": bank, "count": count, "tags": [], "difficulty": []}],
                time_limit_minutes=time_limit_minutes, pass_score=pass_score, max_attempts=max_attempts,
                shuffle_options=shuffle_options, opens_at=opens_at, closes_at=closes_at, origin=Origin.file)
    db.session.add(quiz)
    db.session.commit()
    return quiz


def right_answers(attempt_json: dict) -> dict:
    """The display-letter answers that are right for a started attempt (read from the server-side paper)."""
    from lms.quizzes.draw import to_display
    from lms.quizzes.models import Attempt
    from lms.quizzes.services import paper_items

    attempt = db.session.get(Attempt, attempt_json["id"])
    out = {}
    for _, item in paper_items(attempt):
        question = item.question
        if question.type == "fill":
            out[item.qid] = [alternatives[0] for alternatives in question.answer]
        elif question.type == "multiple":
            out[item.qid] = sorted(to_display(question, question.answer, item.key_map))
        else:
            out[item.qid] = to_display(question, question.answer, item.key_map)
    return out


def wrong_answers(attempt_json: dict) -> dict:
    """An answer per question that is wrong."""
    right = right_answers(attempt_json)
    out = {}
    for qid, answer in right.items():
        if isinstance(answer, bool):
            out[qid] = not answer
        elif isinstance(answer, list) and qid == "t-fill":
            out[qid] = ["二十"]
        elif isinstance(answer, list):
            out[qid] = [k for k in "ABCD" if k not in answer][:1]
        else:
            out[qid] = next(k for k in "ABCD" if k != answer)
    return out
