"""Signals every feature may send or receive; imports no feature."""
from blinker import Namespace

_signals = Namespace()

#: sender: user; kwargs: actor, client_addr
user_logged_in = _signals.signal("user-logged-in")
#: sender: user (learner); kwargs: lesson, course, now
lesson_completed = _signals.signal("lesson-completed")
#: sender: user; kwargs: quiz_code, score, attempt_id, attempt, now
quiz_passed = _signals.signal("quiz-passed")
#: sender: user; kwargs: report, now
drill_accepted = _signals.signal("drill-accepted")
#: sender: user; kwargs: answer (a consultation drill's accepted answer), now
consultation_accepted = _signals.signal("consultation-accepted")
#: sender: user; kwargs: training, hours, now
attendance_recorded = _signals.signal("attendance-recorded")
#: sent once for the mentee and once for the mentor; kwargs: activity, now
activity_confirmed = _signals.signal("activity-confirmed")
