"""SlotThread: a daemon thread that hands its newest result to one consumer through a one-item slot.

The base of the window's capture and analysis stages: never a queue (a result not yet taken is
replaced or waits, as the subclass decides), failures re-raised in the consumer's `take()`, and
stop = flag + join, never a kill. Subclasses implement `_produce()` and publish with `_publish()`.
"""

from __future__ import annotations

import threading
from typing import Any


class SlotThread:
    def __init__(self, name: str) -> None:
        self._cond = threading.Condition()
        self._slot: Any = None
        self._failure: BaseException | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 2.0) -> bool:
        """Ask the thread to finish and wait; True if it did (it completes the item in hand first)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def take(self, timeout_s: float) -> Any:
        """The item in the slot (removing it), None after `timeout_s` without one; re-raises a failure."""
        with self._cond:
            if self._slot is None and self._failure is None:
                self._cond.wait_for(lambda: self._slot is not None or self._failure is not None, timeout_s)
            item, self._slot = self._slot, None
            if item is None and self._failure is not None:
                raise self._failure
            self._cond.notify_all()  # a producer waiting for the slot to empty may go on
            return item

    def _publish(self, item: Any) -> bool:
        """Put `item` in the slot (replacing any untaken one); False if stopping."""
        with self._cond:
            if self._stopping:
                return False
            self._slot = item
            self._cond.notify_all()
            return True

    def _wait_until_slot_empty(self) -> bool:
        """Block until the consumer took the last item; False if stopping instead."""
        with self._cond:
            self._cond.wait_for(lambda: self._slot is None or self._stopping)
            return not self._stopping

    def _produce(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        try:
            self._produce()
        except BaseException as exc:  # noqa: BLE001 — handed to the consumer, which reports it
            with self._cond:
                self._failure = exc
                self._cond.notify_all()
