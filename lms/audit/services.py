"""Writing the audit log."""
from __future__ import annotations

from lms.audit.models import AuditEntry
from lms.db import utcnow
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
