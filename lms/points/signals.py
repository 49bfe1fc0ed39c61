"""The points feature's own signal: later features (certification) react once the ledger is up to date."""
from blinker import Namespace

_signals = Namespace()

#: sender: user; kwargs: kind (PointKind), entry (PointEntry or None when it was already counted), now;
#: quiz_code too for PointKind.quiz_pass (certification then evaluates only when a program can be met).
#: Sent after every handled event, even one worth 0 points, so rules that count other facts see it too.
event_counted = _signals.signal("points-event-counted")
