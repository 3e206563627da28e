"""The runtime: agents, teams, workflows, models and tools."""

from . import events
from .agent import Agent, Team
from .context import RunContext
from .models import EchoModel, Model, ModelError, OpenAIChat, OpenAILike, ScriptedModel, tool_call
from .tools import Tool
from .workflow import Step, Workflow

__all__ = ["Agent", "Team", "Workflow", "Step", "Model", "ModelError", "EchoModel", "ScriptedModel",
           "OpenAIChat", "OpenAILike", "Tool", "tool_call", "events", "RunContext"]
