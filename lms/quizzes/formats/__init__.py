"""Question-bank file formats: pure parsers and exporters, no database.

``yaml_bank`` and ``quiz_file`` read the shipped content under question_bank/;
``gift``, ``aiken`` and ``xlsx`` import (and GIFT/Excel export) a trainer's
questions. Every parser raises ``lms.contentfile.ContentErrors`` with
``path:line`` for each problem and returns ``lms.quizzes.questions.Question``.
"""
