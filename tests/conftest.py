"""Shared fixtures: the evaluation data beside the checkout, seeded randomness, headless Qt."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Qt must not look for a display in tests (CI has none); set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# ../shared/data beside the checkout (CI has it); a user's fresh clone may not.
SHARED_DATA = Path(os.environ.get("SILHOUETTE_CAM_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The evaluation data folder, or skip with the reason when it is absent."""
    if not (SHARED_DATA / "README.md").is_file():
        pytest.skip(f"evaluation data not found at {SHARED_DATA} (set SILHOUETTE_CAM_DATA)")
    return SHARED_DATA


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
