"""Everything the engine announces, in one namespace. Sent only after a commit."""

from blinker import Namespace

_signals = Namespace()

#: sender: the Engine; kwargs: case (CaseView), event (dict of the event row)
event_appended = _signals.signal("event-appended")
#: sender: the Engine; kwargs: fired (int), now (datetime)
timers_run = _signals.signal("timers-run")
#: sender: the Engine; kwargs: checkpoint (dict)
checkpoint_written = _signals.signal("checkpoint-written")
#: sender: the Engine; kwargs: what ("verify" or "checkpoint"), detail (str, no personal data)
audit_failed = _signals.signal("audit-failed")
