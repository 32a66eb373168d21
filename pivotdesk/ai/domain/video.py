"""Video to pictures: the distinct keyframes of a video, read with PyAV (which bundles FFmpeg). Pure: no Django.

Only keyframes are decoded (`skip_frame = "NONKEY"`), which is fast; near-identical ones (a still error screen
filmed for ten seconds) are kept once, and a long video is thinned evenly so that at most `max_frames` go to OCR.
The audio track is read by `asr.decode_audio`, which takes the first audio stream of any container.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

MAX_FRAMES = 6  # each costs one OCR pass (~0.5-1.5 s on 2 cores)
MIN_GAP_SECONDS = 1.0
MAX_SECONDS = 600.0
MAX_SIDE = 1600  # frames are scaled down to this before OCR (detection runs at 960 px anyway)
# Two frames show the same picture when fewer than 0.1 % of the pixels of their 64x64 grey thumbnails differ by more
# than 40 of 255 (a one-digit change on a white screen shot is ~0.3 %; a mean difference would miss it).
THUMB_SIDE = 64
CHANGED_LEVEL = 40.0
SAME_FRAME_CHANGED_SHARE = 0.001


class VideoUnreadable(ValueError):
    """The bytes hold no decodable video stream."""


@dataclass(frozen=True)
class Keyframe:
    seconds: float
    image: Image.Image


def thumbnail(image: Image.Image) -> np.ndarray:
    """A small grey thumbnail as floats, for comparing frames cheaply."""
    small = image.convert("L").resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.float32)


def same_picture(a: np.ndarray, b: np.ndarray) -> bool:
    return float((np.abs(a - b) > CHANGED_LEVEL).mean()) < SAME_FRAME_CHANGED_SHARE


def thin_evenly(items: list[Any], limit: int) -> list[Any]:
    """At most `limit` items spread evenly over the list, first and last kept."""
    if limit <= 0:
        return []
    if len(items) <= limit:
        return list(items)
    if limit == 1:
        return [items[0]]
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]


def _scaled(image: Image.Image) -> Image.Image:
    if max(image.size) > MAX_SIDE:
        image = image.copy()
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def keyframes(
    data: bytes | Path,
    *,
    max_frames: int = MAX_FRAMES,
    min_gap_seconds: float = MIN_GAP_SECONDS,
    max_seconds: float = MAX_SECONDS,
) -> tuple[list[Keyframe], float]:
    """The distinct keyframes of the first video stream, at most max_frames, and the video's duration in seconds.
    Raises VideoUnreadable when there is no video stream to decode."""
    import av

    source: Any = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    kept: list[tuple[Keyframe, np.ndarray]] = []
    gap = min_gap_seconds
    last_time = -1e9
    duration = 0.0
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.video:
                raise VideoUnreadable("no video stream")
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            if container.duration:
                duration = container.duration / 1_000_000
            for frame in container.decode(stream):
                at = float(frame.time or 0.0)
                duration = max(duration, at)
                if at > max_seconds:
                    break
                if at - last_time < gap:
                    continue
                image = _scaled(frame.to_image())
                thumb = thumbnail(image)
                if kept and same_picture(thumb, kept[-1][1]):
                    continue
                kept.append((Keyframe(at, image), thumb))
                last_time = at
                if len(kept) > 2 * max_frames:  # bound memory on long videos: keep every other, widen the gap
                    kept = kept[::2]
                    gap *= 2
    except VideoUnreadable:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise VideoUnreadable(str(exc) or "unreadable video") from exc
    return thin_evenly([k for k, _thumb in kept], max_frames), duration


def merge_lines(texts: list[str]) -> list[str]:
    """The lines of several frames' text, each distinct line once, in order of first appearance."""
    seen: set[str] = set()
    lines: list[str] = []
    for text in texts:
        for line in text.splitlines():
            key = line.strip()
            if key and key not in seen:
                seen.add(key)
                lines.append(key)
    return lines
