"""Shared fixtures: one real seed index (real models, real files), built once per test session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from qa.settings import REPO_ROOT, SHARED_DIR, Settings  # noqa: E402

SEEDS = REPO_ROOT / "seeds"
SHARED = SHARED_DIR


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    """Default settings, with the seed index written to a temporary folder instead of ./index."""
    return Settings(index_dir=tmp_path_factory.mktemp("index") / "seeds-index")


@pytest.fixture(scope="session")
def seed_index(settings):
    import qa

    return qa.default_index(settings)


@pytest.fixture()
def seed_copy(tmp_path) -> Path:
    """A private copy of the seed articles that a test may change."""
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture()
def collection(seed_index, settings, tmp_path):
    """(a Collection over private copies of the seed articles and their index, its settings): what
    the chat page edits, safe for a test to add to and remove from."""
    from ui.screenshots import private_collection

    return private_collection(settings.with_overrides(index_dir=seed_index.path), tmp_path)
