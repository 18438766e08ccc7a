"""The audit trail's hash chain: a canonical form of each event and its SHA-256 (no database access)."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

# Key for pg_advisory_xact_lock: one writer at a time appends to the chain, on every host.
AUDIT_LOCK_KEY = 0x61756474  # "audt"


def json_normalise(value: Any) -> Any:
    """The value as it reads back from a JSON column (tuples become lists, keys strings)."""
    return json.loads(json.dumps(value))


def canonical_event(
    *,
    actor_id: int | None,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    created_at: datetime,
    reason: str,
    before: Any,
    after: Any,
    previous_hash: str,
) -> str:
    """Sorted-key JSON of the fields that make an event; the time in UTC with microseconds."""
    payload = {
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "target": f"{target_type}:{target_id}",
        "time": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "reason": reason,
        "before": before,
        "after": after,
        "previous_hash": previous_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def event_digest(event: Any, previous_hash: str) -> str:
    """SHA-256 of an event row (a model instance, current or historical) chained to `previous_hash`."""
    text = canonical_event(
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        created_at=event.created_at,
        reason=event.reason,
        before=event.before,
        after=event.after,
        previous_hash=previous_hash,
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()
