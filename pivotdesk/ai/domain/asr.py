"""Speech to text: faster-whisper (CTranslate2) with a model directory from configuration. Pure: no Django.

Audio is decoded with PyAV (its bundled FFmpeg reads WAV, AMR, Ogg/Opus, MP3, M4A, WebM, MP4, …), resampled to
16 kHz mono float32 and handed to faster-whisper as an array: faster-whisper's own path-based decoding breaks with
av 19. Models are loaded once per process per directory, on first use; nothing is ever downloaded.

Decoding is greedy at temperature 0 only: the same recording always gives the same text (the pipeline's steps are
deterministic), and unclear audio costs one pass instead of five sampled retries (on a robot voice the fallback
took 3x real time and answered with random words). Two kinds of Whisper hallucination on audio it cannot make out
are dropped: a segment that only repeats the Chinese prompt, and the same segment over and over (a loop of three or
more identical segments in a row is kept once).
"""

from __future__ import annotations

import io
import re
import threading
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000
MAX_SECONDS = 600.0  # longer recordings are cut here (a 10-minute call is ~2 minutes of CPU on 2 cores)
# Whisper writes Chinese in either script; a simplified-Chinese prompt steers it to 简体 (the desk's language).
ZH_PROMPT = "以下是普通话的句子，使用简体中文。"
_NOT_WORDS = re.compile(r"[\W_]+")


class AsrUnavailable(RuntimeError):
    """No usable speech model: none configured, or the directory holds no CTranslate2 Whisper model."""


class AudioUnreadable(ValueError):
    """The bytes hold no decodable audio stream."""


@dataclass(frozen=True)
class Transcript:
    """What was said, the language heard, how long the audio was and how long reading it took."""

    text: str
    language: str
    language_probability: float
    audio_seconds: float
    seconds: float
    model: str
    truncated: bool = False

    @property
    def real_time_factor(self) -> float:
        """Processing time over audio time (0.25 = four times faster than real time)."""
        return self.seconds / self.audio_seconds if self.audio_seconds else 0.0


def engine_version() -> str:
    try:
        return version("faster-whisper")
    except PackageNotFoundError:  # pragma: no cover - the dependency is pinned
        return "unknown"


def model_label(model_path: str | Path) -> str:
    """A readable model name for provenance: the directory's name and the engine, e.g. 'model (faster-whisper)'."""
    path = Path(model_path)
    name = path.name if path.name != "model" else f"{path.parent.name}/{path.name}"
    return f"{name} (faster-whisper {engine_version()})"


# --- decoding ------------------------------------------------------------------------------------------------------


def decode_audio(data: bytes | Path, *, max_seconds: float = MAX_SECONDS) -> tuple[np.ndarray, bool]:
    """The first audio stream of a file as 16 kHz mono float32 samples, cut at max_seconds.
    Returns (samples, truncated). Raises AudioUnreadable when there is no audio to decode."""
    import av

    source: Any = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    limit = int(max_seconds * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    truncated = False
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.audio:
                raise AudioUnreadable("no audio stream")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if total >= limit:
                    truncated = True
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().reshape(-1))
    except AudioUnreadable:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise AudioUnreadable(str(exc) or "unreadable audio") from exc
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)
    return samples[:limit], truncated


def has_audio(data: bytes | Path) -> bool:
    """Whether a media file has an audio stream (a screen recording often has none)."""
    import av

    source: Any = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    try:
        with av.open(source, mode="r") as container:
            return bool(container.streams.audio)
    except (av.error.FFmpegError, ValueError):
        return False


# --- the model -----------------------------------------------------------------------------------------------------

_lock = threading.Lock()
_models: dict[str, Any] = {}


def load_model(model_path: str | Path) -> Any:
    """The faster-whisper model in this directory, loaded once per process (int8 on CPU)."""
    key = str(model_path or "")
    if not key:
        raise AsrUnavailable("no speech model configured (set PIVOTDESK_ASR_MODEL_PATH to a CTranslate2 Whisper model)")
    if not (Path(key) / "model.bin").is_file():
        raise AsrUnavailable(f"no CTranslate2 Whisper model in '{key}' (model.bin missing)")
    model = _models.get(key)
    if model is None:
        with _lock:
            model = _models.get(key)
            if model is None:
                from faster_whisper import WhisperModel

                model = WhisperModel(key, device="cpu", compute_type="int8", local_files_only=True)
                _models[key] = model
    return model


def pick_language(probabilities: list[tuple[str, float]], allowed: tuple[str, ...]) -> tuple[str, float]:
    """The most probable language among the workspace's languages (Whisper's codes: zh, en, ja, …); the overall
    best when none of them was heard at all."""
    ranked = sorted(probabilities, key=lambda p: p[1], reverse=True)
    for code, probability in ranked:
        if not allowed or code in allowed:
            return code, probability
    return ranked[0] if ranked else ("", 0.0)


def echoes_prompt(text: str, prompt: str) -> bool:
    """True when a segment says nothing but the prompt it was given, or a long part of it (six characters or more:
    a customer's short "是的" or "句子" stays), punctuation and spaces aside."""
    said, given = _NOT_WORDS.sub("", text), _NOT_WORDS.sub("", prompt)
    return bool(given) and len(said) >= min(6, len(given)) and said in given


LOOP_LENGTH = 3  # this many identical segments in a row are a decoding loop, not speech


def drop_loops(segments: list[str]) -> list[str]:
    """Runs of LOOP_LENGTH or more identical segments (punctuation and spaces aside) kept once; shorter repeats
    ("喂？" "喂？") are speech and stay."""
    out: list[str] = []
    run: list[str] = []
    for segment in [*segments, None]:
        if segment is not None and run and _NOT_WORDS.sub("", segment) == _NOT_WORDS.sub("", run[0]):
            run.append(segment)
            continue
        out.extend(run[:1] if len(run) >= LOOP_LENGTH else run)
        run = [segment] if segment is not None else []
    return out


def transcribe(
    samples: np.ndarray,
    *,
    model_path: str | Path,
    languages: tuple[str, ...] = ("zh", "en"),
    beam_size: int = 1,
    truncated: bool = False,
) -> Transcript:
    """Transcribe 16 kHz mono float32 samples. An English-only model (tiny.en, base.en) reads English; a
    multilingual one first picks the most likely of the workspace's languages, then transcribes in it."""
    model = load_model(model_path)
    audio_seconds = len(samples) / SAMPLE_RATE
    started = time.perf_counter()
    if audio_seconds < 0.1:
        return Transcript("", "", 0.0, audio_seconds, 0.0, model_label(model_path), truncated)
    options: dict[str, Any] = {
        "beam_size": beam_size,
        "vad_filter": True,
        "condition_on_previous_text": False,
        "temperature": 0.0,
    }
    language, probability = "en", 1.0
    if model.model.is_multilingual:
        _best, _p, all_probabilities = model.detect_language(audio=samples, vad_filter=True)
        language, probability = pick_language(list(all_probabilities), tuple(languages))
        if language == "zh":
            options["initial_prompt"] = ZH_PROMPT
    segments, _info = model.transcribe(samples, language=language, **options)
    separator = "" if language in ("zh", "ja") else " "  # no spaces between Chinese or Japanese segments
    prompt = str(options.get("initial_prompt") or "")
    said = [t for t in (segment.text.strip() for segment in segments) if t and not echoes_prompt(t, prompt)]
    text = separator.join(drop_loops(said))
    return Transcript(
        text=text,
        language=language,
        language_probability=float(probability),
        audio_seconds=audio_seconds,
        seconds=time.perf_counter() - started,
        model=model_label(model_path),
        truncated=truncated,
    )
