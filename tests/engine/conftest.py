from __future__ import annotations

from pathlib import Path

import pytest

from localchat.engine import LoadSettings, load_engine


@pytest.fixture(scope="module")
def smol(smollm2_path: Path):
    """One loaded SmolLM2 per test module (loading takes ~0.5 s; inference is real)."""
    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=2048))
    yield engine
    engine.close()
