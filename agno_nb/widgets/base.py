"""What every agno_nb widget shows outside a live kernel.

A widget is displayed as two outputs:

1. the live view (``application/vnd.jupyter.widget-view+json``, with an empty
   ``text/plain``), which only a frontend connected to the kernel can draw;
2. the static copy (``text/html``, and the widget's ``repr`` as ``text/plain``).

One bundle holding both would not do: nbconvert's HTML exporter, and nbviewer, prefer the
widget view whenever the widget's state was saved (``nbconvert --execute`` saves it), and
that view needs scripts from a CDN, so offline the output stays empty. With two outputs
the static copy is always there. Where the live view does render (JupyterLab, Notebook,
VS Code, or an HTML page that loaded the widget scripts), it hides its static twin with a
``<style>`` rule, so the page does not show the session twice.
"""

from __future__ import annotations

import hashlib
from typing import Any, Dict

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class StaticView:
    """Mixin for ipywidgets containers: a static ``text/html`` copy next to the live view."""

    def _repr_html_(self) -> str:  # pragma: no cover - every widget overrides it
        raise NotImplementedError

    def _static_key(self) -> str:
        """The same for the same widget over the same data (``repr`` says which), never random."""
        return hashlib.sha1(f"{type(self).__name__}|{self._static_identity()}".encode()).hexdigest()[:12]

    def _static_identity(self) -> str:  # overridden: the session id(s) a widget shows
        return ""

    def hide_static_css(self) -> str:
        """A ``<style>`` that hides this widget's static copy wherever the live view is drawn."""
        return f"<style>.agno-static-copy.agno-k-{self._static_key()}{{display:none !important}}</style>"

    def static_html(self) -> str:
        """The static copy as displayed: :meth:`_repr_html_` in a wrapper the live view can hide."""
        return f'<div class="agno-static-copy agno-k-{self._static_key()}">{self._repr_html_()}</div>'

    def _repr_mimebundle_(self, **kwargs: Any) -> Dict[str, Any]:
        """Everything in one bundle, for frontends that ask for it directly (IPython uses
        :meth:`_ipython_display_`)."""
        bundle = super()._repr_mimebundle_(**kwargs) or {}  # type: ignore[misc]
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self._repr_html_()
        return bundle

    def live_bundle(self) -> Dict[str, Any]:
        """The live view alone: nothing to show where no kernel is."""
        bundle = super()._repr_mimebundle_() or {}  # type: ignore[misc]
        return {WIDGET_VIEW: bundle[WIDGET_VIEW], "text/plain": ""} if WIDGET_VIEW in bundle else {}

    def static_bundle(self) -> Dict[str, Any]:
        """The static copy: HTML, and the ``repr`` for plain-text frontends."""
        return {"text/html": self.static_html(), "text/plain": repr(self)}

    def _ipython_display_(self) -> None:
        from IPython.display import display

        live = self.live_bundle()
        if live:
            display(live, raw=True)
        display(self.static_bundle(), raw=True)
