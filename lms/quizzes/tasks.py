"""Periodic quiz work for `tasks run` (cron): close attempts whose deadline and grace have passed."""
from __future__ import annotations

from lms.quizzes.services import close_overdue_attempts

__all__ = ["close_overdue_attempts"]
