"""SegmenterSwitch: the segmenter the engine uses, switched by the model choice without stalling frames.

A shipped variant switches at once (the shipped segmenter holds both networks). A weights file —
or the shipped networks after a file — is built and warmed up on a background thread and swapped
in when ready; frames keep coming from the old model meanwhile, and only the newest request
counts. Every finished switch, and every failure (the previous model stays in use), is reported
as a ModelSwitch from the thread that did it. No Qt here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model_catalog import is_weights_choice, model_label


@dataclass(frozen=True)
class ModelSwitch:
    """The model in use after a switch (or a failed one)."""

    choice: str  # a shipped variant or a weights file path
    label: str  # for people: "auto", "my_model (3 classes)"
    device_label: str  # e.g. "CPU fp32 PyTorch — no GPU found"
    error: str = ""  # why the requested model is not in use; "" when it is


def build_segmenter(*, choice: str, device: str) -> Any:
    """A PersonSegmenter for a choice (imported here: torch loads off the GUI thread)."""
    from silhouette_cam.segmenter import PersonSegmenter

    if is_weights_choice(choice):
        return PersonSegmenter(weights=choice, device=device)
    return PersonSegmenter(model=choice, device=device)


class SegmenterSwitch:
    """See the module docstring. `on_switch(segmenter, ModelSwitch)` runs under the switch's lock."""

    def __init__(self, *, choice: str, device: str, strict: bool = True,
                 build: Callable[..., Any] = build_segmenter) -> None:
        """Builds the first segmenter on the calling thread. A weights file that fails to load
        raises when `strict`, else the shipped model ("auto") is used and `startup_error` says why."""
        self._device, self._build = device, build
        self._lock = threading.RLock()
        self._generation = 0
        self._shipped: Any = None  # kept once built: switching back to a variant is instant
        self.on_switch: Callable[[Any, ModelSwitch], None] | None = None
        self.startup_error = ""
        try:
            segmenter = self._load(choice)
        except Exception as exc:
            if strict or not is_weights_choice(choice):
                raise
            self.startup_error = _failure(choice, exc) + " — using auto"
            choice, segmenter = "auto", self._load("auto")
        self._segmenter, self._choice = segmenter, choice

    @property
    def segmenter(self) -> Any:
        return self._segmenter

    @property
    def choice(self) -> str:
        return self._choice

    @property
    def label(self) -> str:
        """The model in use for people: the shipped network that ran last, or the file's label."""
        segmenter = self._segmenter
        if is_weights_choice(self._choice):
            return model_label(self._choice, len(segmenter.class_names))
        return str(segmenter.variant)

    def state(self, error: str = "") -> ModelSwitch:
        with self._lock:
            choice, segmenter = self._choice, self._segmenter
            label = model_label(choice, len(segmenter.class_names)) if is_weights_choice(choice) else choice
            return ModelSwitch(choice, label, segmenter.device_label, error)

    def request(self, choice: str) -> None:
        """Use `choice` from the next frames on: at once for a variant, else when it has loaded."""
        with self._lock:
            self._generation += 1
            generation, shipped = self._generation, self._shipped
        if not is_weights_choice(choice) and shipped is not None:
            shipped.model = choice  # validates
            self._install(generation, choice, shipped)
            return
        threading.Thread(target=self._load_in_background, args=(generation, choice),
                         name="model-switch", daemon=True).start()

    def _load(self, choice: str) -> Any:
        if is_weights_choice(choice):
            return self._build(choice=choice, device=self._device)
        with self._lock:
            shipped = self._shipped
        if shipped is None:
            shipped = self._build(choice=choice, device=self._device)
            with self._lock:
                self._shipped = shipped
        shipped.model = choice
        return shipped

    def _load_in_background(self, generation: int, choice: str) -> None:
        try:
            segmenter = self._load(choice)
        except Exception as exc:  # noqa: BLE001 — reported; the previous model stays in use
            with self._lock:
                if generation == self._generation and self.on_switch is not None:
                    self.on_switch(self._segmenter, self.state(_failure(choice, exc)))
            return
        self._install(generation, choice, segmenter)

    def _install(self, generation: int, choice: str, segmenter: Any) -> None:
        with self._lock:
            if generation != self._generation:
                return  # a newer request came in meanwhile: it wins
            self._segmenter, self._choice = segmenter, choice
            if self.on_switch is not None:
                self.on_switch(segmenter, self.state())


def _failure(choice: str, exc: BaseException) -> str:
    name = Path(choice).name if is_weights_choice(choice) else choice
    return f"cannot load model {name}: {exc}"
