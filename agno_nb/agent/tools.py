"""Plain Python functions as tools a model can call."""

from __future__ import annotations

import inspect
import json
import time
import typing
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from ..records import ToolExecution, now

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array",
               dict: "object", type(None): "null"}
# Parameters the runtime fills in itself; the model never sees them.
INJECTED = ("session_state",)


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


@dataclass
class Tool:
    """A callable with the JSON schema the model sees."""

    name: str
    description: str
    parameters: Dict[str, Any]
    fn: Callable[..., Any]
    wants_state: bool = False

    @classmethod
    def from_function(cls, fn: Callable[..., Any]) -> "Tool":
        if isinstance(fn, Tool):
            return fn
        sig = inspect.signature(fn)
        hints = typing.get_type_hints(fn) if hasattr(fn, "__annotations__") else {}
        props: Dict[str, Any] = {}
        required: List[str] = []
        for name, param in sig.parameters.items():
            if name in INJECTED or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
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
            wants_state="session_state" in sig.parameters,
        )

    def to_openai(self) -> Dict[str, Any]:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}

    def execute(self, call_id: str, arguments: Any, session_state: Optional[Dict[str, Any]] = None) -> ToolExecution:
        """Run the tool; an exception becomes an error result, not a crashed run."""
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
                kwargs = dict(args)
                if self.wants_state:
                    kwargs["session_state"] = session_state if session_state is not None else {}
                value = self.fn(**kwargs)
                result, error = value if isinstance(value, str) else json.dumps(value, default=str), False
            except Exception as exc:  # the model is told, the run goes on
                result, error = f"Error: {type(exc).__name__}: {exc}", True
        end = time.time()
        return ToolExecution(
            tool_call_id=call_id, tool_name=self.name, tool_args=args, tool_call_error=error, result=result,
            metrics={"start_time": start, "end_time": end, "duration": end - start}, created_at=created,
        )
