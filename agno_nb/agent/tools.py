"""Plain Python functions as tools a model can call."""

from __future__ import annotations

import inspect
import json
import re
import time
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from ..records import ToolExecution, now
from .context import INJECTED_NAMES

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array",
               dict: "object", type(None): "null"}
# Parameters the runtime fills in itself; the model never sees them (see .context).
INJECTED = tuple(INJECTED_NAMES)
# Agno also injects by annotation, whatever the name (``ctx: RunContext``, ``me: Agent``):
# matched on the class name, so agno's own classes count without importing agno.
_INJECTED_TYPES = {"RunContext": "run_context", "Agent": "agent", "Team": "team"}


def _schema_for(annotation: Any) -> Dict[str, Any]:
    origin = typing.get_origin(annotation) or annotation
    if origin is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _schema_for(args[0]) if len(args) == 1 else {}
    if origin in _JSON_TYPES:
        out: Dict[str, Any] = {"type": _JSON_TYPES[origin]}
        if origin is list and typing.get_args(annotation):
            out["items"] = _schema_for(typing.get_args(annotation)[0])
        return out
    return {}


def _hints(fn: Callable[..., Any]) -> Dict[str, Any]:
    """The resolved annotations, or the raw ones where a name cannot be resolved (a tool
    annotated with agno's ``RunContext`` under ``from __future__ import annotations``)."""
    try:
        return typing.get_type_hints(fn)
    except Exception:  # NameError and friends: unresolvable string annotations
        return dict(getattr(fn, "__annotations__", None) or {})


def _type_name(annotation: Any) -> Optional[str]:
    """``RunContext`` for ``RunContext``, ``Optional[RunContext]``, ``"agno.run.RunContext"``."""
    if isinstance(annotation, str):
        words = re.findall(r"[A-Za-z_][\w.]*", annotation)
        names = [w.rsplit(".", 1)[-1] for w in words if w not in ("Optional", "Union", "None", "typing")]
        return names[0] if len(names) == 1 else None
    if typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _type_name(args[0]) if len(args) == 1 else None
    return getattr(annotation, "__name__", None)


def _injected_params(sig: inspect.Signature, hints: Dict[str, Any]) -> Dict[str, str]:
    """Parameter name -> what the runtime passes to it (a key of ``INJECTED_NAMES``' values)."""
    out: Dict[str, str] = {}
    for name, param in sig.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            continue
        if name in INJECTED_NAMES:
            out[name] = INJECTED_NAMES[name]
        elif _type_name(hints.get(name)) in _INJECTED_TYPES:
            out[name] = _INJECTED_TYPES[_type_name(hints.get(name))]
    return out


@dataclass
class Tool:
    """A callable with the JSON schema the model sees."""

    name: str
    description: str
    parameters: Dict[str, Any]
    fn: Callable[..., Any]
    # parameter name -> the injected value it takes ("run_context", "agent", ...)
    injected: Dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_function(cls, fn: Callable[..., Any]) -> "Tool":
        if isinstance(fn, Tool):
            return fn
        sig = inspect.signature(fn)
        hints = _hints(fn)
        injected = _injected_params(sig, hints)
        props: Dict[str, Any] = {}
        required: List[str] = []
        for name, param in sig.parameters.items():
            if name in injected or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            props[name] = _schema_for(hints.get(name, Any))
            if param.default is param.empty:
                required.append(name)
        doc = inspect.getdoc(fn) or ""
        return cls(
            name=fn.__name__,
            description=doc.split("\n\n")[0].strip(),
            parameters={"type": "object", "properties": props, "required": required},
            fn=fn,
            injected=injected,
        )

    def to_openai(self) -> Dict[str, Any]:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}

    def execute(self, call_id: str, arguments: Any, session_state: Optional[Dict[str, Any]] = None,
                context: Optional[Dict[str, Any]] = None) -> ToolExecution:
        """Run the tool; an exception becomes an error result, not a crashed run.

        ``context``: the values of the injected parameters (``context.injected_values``);
        without it a ``session_state`` parameter gets ``session_state`` and the others ``None``.
        An exception the tool raises is told to the model and marks the call
        ``tool_call_error``; the run goes on and ends COMPLETED, as in Agno 3.1.
        """
        values = dict(context or {})
        values.setdefault("session_state", session_state if session_state is not None else {})
        start = time.time()
        created = now()
        try:
            args = json.loads(arguments) if isinstance(arguments, str) and arguments.strip() else (arguments or {})
            if not isinstance(args, dict):
                raise TypeError(f"tool arguments must be a JSON object, got {type(args).__name__}")
        except (ValueError, TypeError) as exc:
            args, error, result = {}, True, f"Error: invalid arguments for {self.name}: {exc}"
        else:
            try:
                # a value the model gave for an injected name is dropped, as in Agno
                kwargs = {k: v for k, v in args.items() if k not in self.injected}
                params = inspect.signature(self.fn).parameters
                for name, key in self.injected.items():
                    # a parameter with its own default keeps it when there is nothing to inject
                    # (``agent`` on a team's tool), as in Agno
                    if values.get(key) is not None or params[name].default is params[name].empty:
                        kwargs[name] = values.get(key)
                value = self.fn(**kwargs)
                result, error = value if isinstance(value, str) else json.dumps(value, default=str), False
            except Exception as exc:  # the model is told, the run goes on
                result, error = f"Error: {type(exc).__name__}: {exc}", True
        end = time.time()
        return ToolExecution(
            tool_call_id=call_id, tool_name=self.name, tool_args=args, tool_call_error=error, result=result,
            metrics={"start_time": start, "end_time": end, "duration": end - start}, created_at=created,
        )
