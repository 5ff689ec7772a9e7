"""One way to bound a block of pure-Python work in time: SIGALRM.

A parse or a template render that runs away (quadratic input, an endless
loop) must end with a clear message, not hang a run.  POSIX signals reach
only the main thread, so elsewhere, or where another timer is already set,
the block runs without a limit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def time_limit(seconds: float, expired: type[BaseException]) -> Iterator[None]:
    """Raise ``expired`` inside the block once it has run ``seconds``."""
    if (not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL)[0]):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
