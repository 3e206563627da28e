"""What every agno_nb widget shows outside a live kernel."""

from __future__ import annotations

from typing import Any, Dict


class StaticView:
    """Mixin for ipywidgets containers: a static ``text/html`` next to the live view.

    ipywidgets' own bundle holds ``text/plain`` and the widget view (with a model id
    that changes every run, which nbval ignores). Adding ``text/html`` gives
    nbviewer, GitHub and nbconvert something to show; JupyterLab still prefers the
    live view. Both ``text/plain`` (``__repr__``) and the HTML are deterministic.
    """

    def _repr_html_(self) -> str:  # pragma: no cover - every widget overrides it
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> Dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}  # type: ignore[misc]
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self._repr_html_()
        return bundle
