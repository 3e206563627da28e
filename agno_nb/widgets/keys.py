"""Keyboard navigation for :class:`~agno_nb.widgets.Replay`, and the "show all" state it keeps.

Core ipywidgets has no key events, so a tiny `anywidget <https://anywidget.dev>`_ view (an
ES module, no build step; anywidget ships its JupyterLab extension in its wheel) listens for
keys while the focus is inside its replay, and sends each one to the kernel:

- ``→`` or ``j``: next message; ``←`` or ``k``: previous message;
- ``Shift+→`` or ``n``: next run; ``Shift+←`` or ``p``: previous run (start of this run first);
- ``Home`` / ``End``: first / last step.

Keys typed into the replay's text fields, its slider and its dropdowns are left alone, and
so is anything with Ctrl, Alt or Meta. The listener runs in the window's capture phase and
marks the keys it takes as handled (``preventDefault``), so JupyterLab's notebook shortcuts
(``j``/``k`` select cells in command mode) do not fire as well.

At scale (a held key repeats 30 times a second, a step renders in the kernel), key presses
are coalesced: one request is in flight at a time, and the presses made meanwhile go as one
``step`` of their summed size once the kernel acknowledges the last.

The same view reports when a collapsed text ("show all") is opened or closed, so the replay
renders it open again on every later step, and in every later view of the widget.

Without anywidget (``pip install anywidget``; it is in the ``notebooks`` extra) the replay
works as before with its buttons and slider, and says that the keys need it. Where the
frontend lacks anywidget's extension, the view is hidden and the hint, which only its script
reveals, stays hidden.
"""

from __future__ import annotations

from typing import Optional

KEY_LIST = ("→ or j next message · ← or k previous · Shift+→ or n next run · Shift+← or p previous run · "
            "Home / End first / last step")
KEY_HELP = "Keys (click the replay first): " + KEY_LIST
NO_KEYS = "Keyboard navigation needs anywidget (pip install anywidget); the buttons and slider work without it."

ESM = r"""
const KEYS = {
  "ArrowRight": "next", "j": "next", "ArrowLeft": "prev", "k": "prev",
  "Shift+ArrowRight": "next_run", "n": "next_run", "Shift+ArrowLeft": "prev_run", "p": "prev_run",
  "Home": "first", "End": "last",
};
// where typing or the control's own arrow keys must win
const OWN_KEYS = "input, textarea, select, [contenteditable], .widget-slider, .noUi-target, .widget-dropdown";

function render({ model, el }) {
  let root = null;
  const attach = () => {
    if (root && root.isConnected) return root;
    root = el.closest(".agno-replay");
    if (root) {
      if (!root.hasAttribute("tabindex")) root.tabIndex = 0;  // a click anywhere in it focuses it
      root.classList.add("agno-keys-on");  // reveals the key hint (a rule the replay carries)
    }
    return root;
  };
  let tries = 0;
  const wait = () => { if (!attach() && tries++ < 600) requestAnimationFrame(wait); };
  wait();

  const ours = (target) => {
    const r = attach();
    return r && target instanceof Element && r.contains(target) && target.closest(".agno-replay") === r;
  };

  // one request in flight; presses made meanwhile are queued, consecutive steps summed
  const queue = [];
  let inflight = false, timer = null;
  const flush = () => {
    if (inflight || !queue.length) return;
    inflight = true;
    model.send({ type: "key", ...queue.shift() });
    timer = setTimeout(() => { inflight = false; flush(); }, 5000);  // a lost reply does not stall the keys
  };
  const onMsg = (msg) => {
    if (msg && msg.type === "ack") { clearTimeout(timer); inflight = false; flush(); }
  };
  model.on("msg:custom", onMsg);

  const onKey = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (!ours(e.target) || e.target.closest(OWN_KEYS)) return;
    const action = KEYS[(e.shiftKey && e.key.startsWith("Arrow") ? "Shift+" : "") + e.key];
    if (!action) return;
    e.preventDefault();  // JupyterLab's shortcuts skip a handled event
    e.stopPropagation();
    // the step re-renders the messages: focus on a "show all" in them would fall to the page
    if (!e.target.closest("button")) attach().focus({ preventScroll: true });
    const delta = { next: 1, prev: -1 }[action];
    const last = queue[queue.length - 1];
    if (delta && last && last.action === "step") last.delta += delta;
    else queue.push(delta ? { action: "step", delta } : { action });
    flush();
  };
  const onToggle = (e) => {
    const d = e.target;
    if (d instanceof Element && d.matches("details[data-agno-key]") && ours(d)) {
      model.send({ type: "toggle", key: d.getAttribute("data-agno-key"), open: d.open });
    }
  };
  window.addEventListener("keydown", onKey, true);
  window.addEventListener("toggle", onToggle, true);  // toggle does not bubble; capture sees it
  return () => {
    window.removeEventListener("keydown", onKey, true);
    window.removeEventListener("toggle", onToggle, true);
    model.off("msg:custom", onMsg);
    clearTimeout(timer);
  };
}
export default { render };
"""


_KEYS_CLASS: Optional[type] = None


def key_widget_class() -> Optional[type]:
    """The anywidget class that sends keys and "show all" toggles, or None without anywidget."""
    global _KEYS_CLASS
    if _KEYS_CLASS is None:
        try:
            import anywidget
        except ImportError:
            return None

        class ReplayKeys(anywidget.AnyWidget):
            """Sends the replay's keys and "show all" toggles to the kernel (see the module's doc)."""

            _esm = ESM

            def __repr__(self) -> str:
                return "ReplayKeys()"

        _KEYS_CLASS = ReplayKeys
    return _KEYS_CLASS


# The hint shows once the keys' script runs in the frontend (it adds ``agno-keys-on``).
HINT_CSS = (".agno-replay .agno-key-hint{display:none}"
            ".agno-replay.agno-keys-on .agno-key-hint{display:block}"
            ".agno-replay.agno-keys-on:focus{outline:1px dashed var(--jp-brand-color1,#1d4ed8);outline-offset:2px}")
