"""The private event loop the synchronous client runs the async core on.

One daemon thread per process, started on first use. Blocking calls hand a coroutine to it and
wait for the result, so the sync client works from any thread, including a thread of an
application that runs its own asyncio loop (that loop is never touched).

>>> async def answer() -> int:
...     return 42
>>> loop_thread().run(answer())
42
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread", "loop_thread"]

_T = TypeVar("_T")
_Closer = Callable[[], Coroutine[Any, Any, None]]


class LoopThread:
    """An asyncio loop running forever on a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.closers: list[_Closer] = []
        """Run at interpreter exit (the sessions of clients never closed)."""
        self.stopped = False
        """Set at interpreter exit: a stream finalized later must not wait on this loop."""
        self._releasing: set[asyncio.Task[None]] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, name="oxide_rx-compat",
                                       daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` on the loop thread and wait for its result (or exception)."""
        if threading.current_thread() is self.thread or self.stopped:
            coro.close()
            raise RuntimeError("the oxide_rx.compat loop thread cannot run this (stopped, or "
                               "called from its own thread)")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # KeyboardInterrupt while waiting: stop the work on the loop too
            raise

    def release(self, closing: Coroutine[Any, Any, None]) -> None:
        """Run ``closing`` (a stream's ``aclose``) to its end from any thread.

        A blocking consumer waits for it. On the loop's own thread (the garbage collector
        finalizes an abandoned stream on whatever thread it happens to run) waiting would
        deadlock, so it becomes a task there; after interpreter exit nothing is left to release.
        """
        if self.stopped:
            closing.close()
        elif threading.current_thread() is self.thread:
            task = self.loop.create_task(closing)
            self._releasing.add(task)  # a task only weakly referenced could be collected
            task.add_done_callback(self._releasing.discard)
        else:
            self.run(closing)

    def call(self, function: Callable[[], None]) -> None:
        """Call ``function`` on the loop thread (it subscribes there) and wait for it."""

        async def call() -> None:
            function()

        self.run(call())

    def _shutdown(self) -> None:
        async def close_all() -> None:
            for closer in self.closers:
                with contextlib.suppress(Exception):  # at exit nobody is left to tell
                    await closer()

        if self.closers:
            with contextlib.suppress(Exception):
                self.run(asyncio.wait_for(close_all(), 5.0))
        self.stopped = True


_lock = threading.Lock()
_instance: LoopThread | None = None


def loop_thread() -> LoopThread:
    """The process-wide loop thread (started on first call)."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = LoopThread()
            atexit.register(_instance._shutdown)
        return _instance
