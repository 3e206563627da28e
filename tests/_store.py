"""Test helper: store a run the Agno way (the session first, then the run)."""

from __future__ import annotations

from typing import Optional


def store_run(db, session_id: str, run, user_id: Optional[str] = None) -> None:
    """Create ``session_id`` if missing (Agno refuses a run without its session), then upsert ``run``."""
    from agno_nb.records import RunOutput, session_from_dict

    run = RunOutput.from_dict(run) if isinstance(run, dict) else run
    if db.get_session(session_id, deserialize=False) is None:
        db.upsert_session(session_from_dict({
            "session_id": session_id, "session_type": run.run_type, "agent_id": run.agent_id, "team_id": run.team_id,
            "workflow_id": run.workflow_id, "user_id": user_id}))
    db.upsert_run(run, session_id, user_id=user_id)
