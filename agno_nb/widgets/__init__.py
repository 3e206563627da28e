"""Notebook widgets (ipywidgets 8): :func:`replay`, :func:`compare`, :func:`browse`.

Each widget also renders as static HTML (``_repr_html_``) for nbviewer, GitHub and
nbconvert, and has a deterministic ``repr`` so notebooks pass ``pytest --nbval``.
"""

from .browse import Browse, browse
from .compare import Compare, compare
from .replay import Replay, replay

__all__ = ["replay", "compare", "browse", "Replay", "Compare", "Browse"]
