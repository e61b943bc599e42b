"""SIGTERM / SIGINT / SIGHUP become an :class:`Interrupted` exception, so temporary outputs are removed.

Python's default SIGTERM handler kills the process without running ``finally`` blocks, which left hidden
``.X.tmp-*`` folders behind. :func:`handle_signals` (used by ``curate.cli.main``) turns the signal into an
exception that unwinds through :func:`curate._io.atomic_dir` / ``atomic_file``; their clean-up runs and the
CLI prints ``error: interrupted`` with exit code 130. :func:`deferred` holds a signal back for the few
renames that move a finished output into place, so an interrupt never lands between two of them.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

#: exit code of an interrupted run (128 + SIGINT, as shells report it)
EXIT_INTERRUPTED = 130

_state = {"defer": 0, "pending": None}


class Interrupted(BaseException):
    """A signal asked curate to stop. A BaseException (like KeyboardInterrupt): ``except Exception`` in
    library code does not swallow it, and click does not turn it into ``Abort``."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


def _handler(signum: int, frame) -> None:  # noqa: ARG001 - signal handler signature
    if _state["defer"]:
        _state["pending"] = signum
        return
    raise Interrupted(signum)


def _signals() -> list[int]:
    return [getattr(signal, n) for n in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, n)]


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """Raise :class:`Interrupted` on SIGTERM/SIGINT/SIGHUP for the duration (main thread only; elsewhere,
    e.g. a CLI called from a worker thread, the process's own handlers stay)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for s in _signals():
        with contextlib.suppress(OSError, ValueError):  # unsupported signal on this platform
            previous[s] = signal.signal(s, _handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold signals back until the block is done (the renames that commit an output), then raise."""
    _state["defer"] += 1
    try:
        yield
    finally:
        _state["defer"] -= 1
        if not _state["defer"] and _state["pending"] is not None:
            signum, _state["pending"] = _state["pending"], None
            raise Interrupted(signum)
