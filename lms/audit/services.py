"""Writing the audit log."""
from __future__ import annotations

from lms.audit.models import AuditEntry
from lms.db import utcnow, write_intent
from lms.extensions import db


def record(action: str, *, actor=None, actor_name: str | None = None, target_type: str = "", target: str = "",
           org=None, client_addr: str = "", details: dict | None = None, now=None) -> AuditEntry:
    """Append one audit entry (flushed with the caller's transaction)."""
    actor_id = getattr(actor, "id", None)
    entry = AuditEntry(
        at=now or utcnow(), actor_id=actor_id,
        actor_name=actor_name if actor_name is not None else getattr(actor, "username", "系统"),
        action=action, target_type=target_type, target=str(target)[:200],
        org_path=getattr(org, "path", None), client_addr=client_addr or "", details=details or {},
    )
    db.session.add(entry)
    return entry


def record_after_read(action: str, **fields) -> AuditEntry:
    """Append an audit entry from a request that has only read so far (an export, a page showing personal data:
    GETs), and commit it now.

    A GET reads in a deferred SQLite transaction. When the session loader has meanwhile recorded the session's
    activity on its own connection, SQLite refuses to turn that older read into a write ("database is locked",
    without waiting). So the read ends first and the entry is written in a transaction that begins IMMEDIATE
    (and waits its turn). Objects read before are expired by the commit and reload when used.
    """
    db.session.commit()
    with write_intent():
        entry = record(action, **fields)
        db.session.commit()
    return entry
