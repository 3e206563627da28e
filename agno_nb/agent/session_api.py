"""Agno 3.1's session methods on agents, teams and workflows, sync and async.

Each method has Agno's name and parameters (checked against agno 3.1.10 by
``tests/test_compat_runtime.py``). ``session_id`` defaults to the component's own
``session_id`` (set in the constructor, or by the first run without one); the
``a*`` twins run the same code in a worker thread, so ``await agent.aget_session()``
works in a notebook cell without blocking the kernel's event loop.
"""

from __future__ import annotations

import asyncio
import functools
import warnings
from typing import Any, Callable, Dict, List, Optional

from ..errors import SessionNotFoundError
from ..records import Message, RunOutput, Session, SessionMetrics, SessionSummary

# Keys Agno puts in session_state while a run executes and strips before storing it.
TRANSIENT_STATE_KEYS = ("current_session_id", "current_user_id", "current_run_id")

SESSION_NAME_PROMPT = ("Please provide a suitable name for this conversation in maximum 5 words. "
                       "Remember, do not exceed 5 words.")


def async_twin(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` as a coroutine function run in a worker thread, with ``fn``'s signature."""

    @functools.wraps(fn)
    async def twin(self, *args: Any, **kwargs: Any) -> Any:
        # by name, so a subclass's override (Team.get_session_messages) is the one run
        return await asyncio.to_thread(getattr(self, fn.__name__), *args, **kwargs)

    twin.__name__ = twin.__qualname__ = "a" + fn.__name__
    twin.__doc__ = f"Async :meth:`{fn.__name__}` (runs in a worker thread)."
    return twin


class SessionMethods:
    """Mixin: needs ``db``, ``id``, ``session_id``, ``session_type``, ``cache_session``."""

    session_type = "agent"
    db: Any
    id: str
    session_id: Optional[str]
    cache_session: bool
    _cached_session: Optional[Session]

    # -- helpers ----------------------------------------------------------------------

    def _session_id_or_raise(self, session_id: Optional[str]) -> str:
        sid = session_id or self.session_id
        if sid is None:
            raise ValueError(f"{type(self).__name__} {self.id!r}: no session_id given and none set on it "
                             "(pass session_id=..., or set it in the constructor)")
        return sid

    def _load(self, session_id: str, user_id: Optional[str] = None) -> Optional[Session]:
        if self.cache_session and self._cached_session is not None and self._cached_session.session_id == session_id \
                and (user_id is None or self._cached_session.user_id in (None, user_id)):
            return self._cached_session
        if self.db is None:
            return None
        session = self.db.get_session(session_id=session_id, user_id=user_id)
        if session is not None and session.session_type != self.session_type:
            return None  # as Agno: an agent reads agent sessions, a team team sessions
        if session is not None and self.cache_session:
            self._cached_session = session
        return session

    def _require(self, session_id: Optional[str], user_id: Optional[str] = None) -> Session:
        sid = self._session_id_or_raise(session_id)
        session = self._load(sid, user_id)
        if session is None:
            where = f" in {self.db!r}" if self.db is not None else " (no db)"
            raise SessionNotFoundError(f"session {sid!r} of {self.session_type} {self.id!r} not found{where}"
                                       + (f" for user_id={user_id!r}" if user_id else ""))
        return session

    # -- reading ------------------------------------------------------------------------

    def get_session(self, session_id: Optional[str] = None, user_id: Optional[str] = None) -> Optional[Session]:
        """The stored session with its runs, or None (no db, not found, or another user's)."""
        return self._load(self._session_id_or_raise(session_id), user_id)

    def get_session_name(self, session_id: Optional[str] = None) -> str:
        """The session's name ("" when it has none)."""
        return self._require(session_id).session_name or ""

    def get_session_state(self, session_id: Optional[str] = None) -> Dict[str, Any]:
        """The session's stored ``session_state``."""
        return (self._require(session_id).session_data or {}).get("session_state", {})

    def get_session_metrics(self, session_id: Optional[str] = None) -> Optional[SessionMetrics]:
        """The session's token totals, or None when none are stored."""
        data = (self._require(session_id).session_data or {}).get("session_metrics")
        return SessionMetrics.from_dict(data) if data else None

    def get_session_summary(self, session_id: Optional[str] = None) -> Optional[SessionSummary]:
        """The session's summary (written with ``enable_session_summaries``), or None."""
        return self._require(session_id).get_session_summary()

    def get_session_messages(self, session_id: Optional[str] = None, last_n_runs: Optional[int] = None,
                             limit: Optional[int] = None, skip_roles: Optional[List[str]] = None,
                             skip_statuses: Optional[List[Any]] = None,
                             skip_history_messages: bool = True) -> List[Message]:
        """The session's messages that fit the criteria (see ``AgentSession.get_messages``)."""
        sid = session_id or self.session_id
        if sid is None:
            return []
        return self._require(sid).get_messages(last_n_runs=last_n_runs, limit=limit, skip_roles=skip_roles,
                                               skip_statuses=skip_statuses,
                                               skip_history_messages=skip_history_messages)

    def get_chat_history(self, session_id: Optional[str] = None, last_n_runs: Optional[int] = None) -> List[Message]:
        """The user and assistant messages of the session's runs (any status)."""
        return self.get_session_messages(session_id=session_id, last_n_runs=last_n_runs,
                                         skip_roles=["system", "tool"], skip_statuses=[])

    def get_last_run_output(self, session_id: Optional[str] = None) -> Optional[RunOutput]:
        """This component's latest run in the session, or None."""
        session = self._load(self._session_id_or_raise(session_id))
        for run in reversed(session.runs if session else []):
            if getattr(run, f"{self.session_type}_id") == self.id:
                return RunOutput.from_dict(run.to_dict())
        return None

    def get_run_output(self, run_id: str, session_id: Optional[str] = None,
                       user_id: Optional[str] = None) -> Optional[RunOutput]:
        """The run ``run_id`` of the session, or None."""
        session = self._load(self._session_id_or_raise(session_id), user_id)
        return session.get_run(run_id) if session is not None else None

    # -- writing ------------------------------------------------------------------------

    def save_session(self, session: Session) -> None:
        """Write the session (its row and its runs) to the db."""
        if self.db is None:
            return
        state = (session.session_data or {}).get("session_state")
        if isinstance(state, dict):
            for key in TRANSIENT_STATE_KEYS:
                state.pop(key, None)
        self.db.upsert_session(session)
        if self.cache_session:
            self._cached_session = session

    def set_session_name(self, session_id: Optional[str] = None, autogenerate: bool = False,
                         session_name: Optional[str] = None) -> Session:
        """Name the session (``autogenerate=True``: the model names it from its messages); returns it."""
        session = self._require(session_id)
        if autogenerate:
            session_name = self._generate_session_name(session)
        elif session_name is None:
            raise ValueError("set_session_name needs session_name=... or autogenerate=True")
        session.session_data = {**(session.session_data or {}), "session_name": session_name}
        self.save_session(session)
        return session

    def _generate_session_name(self, session: Session) -> str:
        model = getattr(self, "model", None)
        if model is None:
            raise ValueError(f"{type(self).__name__} {self.id!r} has no model to generate a session name with")
        prompt = "Conversation\n" + "".join(f"{m.role.upper()}: {m.content}\n" for m in session.get_messages())
        prompt += "\n\nConversation Name: "
        for _ in range(4):
            content = model.invoke([Message(role="system", content=SESSION_NAME_PROMPT),
                                    Message(role="user", content=prompt)]).content
            if content and len(content.split()) <= 5:
                return content.replace('"', "").strip()
        return " ".join(content.split()[:5]) if content else "New Session"

    def update_session_state(self, session_state_updates: Dict[str, Any],
                             session_id: Optional[str] = None) -> Dict[str, Any]:
        """Set keys of the stored ``session_state``; returns the whole state."""
        session = self._require(session_id)
        session.session_data = dict(session.session_data or {})
        state = dict(session.session_data.get("session_state") or {})
        state.update(session_state_updates)
        session.session_data["session_state"] = state
        self.save_session(session)
        return state

    def delete_session(self, session_id: str, user_id: Optional[str] = None, delete_media: bool = False) -> None:
        """Delete the session and its runs (with ``user_id``: only if that user owns it)."""
        if delete_media:
            # Agno without a media storage does the same: nothing to delete beyond the rows.
            warnings.warn("delete_media=True: agno_nb stores no media outside the session rows", stacklevel=2)
        if self.db is None:
            return
        self.db.delete_session(session_id=session_id, user_id=user_id)
        if self._cached_session is not None and self._cached_session.session_id == session_id:
            self._cached_session = None

    # -- async twins ----------------------------------------------------------------------

    aget_session = async_twin(get_session)
    aget_session_name = async_twin(get_session_name)
    aget_session_state = async_twin(get_session_state)
    aget_session_metrics = async_twin(get_session_metrics)
    aget_session_summary = async_twin(get_session_summary)
    aget_session_messages = async_twin(get_session_messages)
    aget_chat_history = async_twin(get_chat_history)
    aget_last_run_output = async_twin(get_last_run_output)
    aget_run_output = async_twin(get_run_output)
    asave_session = async_twin(save_session)
    aset_session_name = async_twin(set_session_name)
    aupdate_session_state = async_twin(update_session_state)
    adelete_session = async_twin(delete_session)
