"""Chat models: ``from agno_nb.models import OpenAIChat, OpenAILike, EchoModel, ScriptedModel``."""

from .agent.models import EchoModel, Model, ModelError, ModelResponse, OpenAIChat, OpenAILike, ScriptedModel, tool_call

__all__ = ["Model", "ModelResponse", "ModelError", "EchoModel", "ScriptedModel", "OpenAIChat", "OpenAILike",
           "tool_call"]
