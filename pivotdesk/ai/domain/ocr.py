"""Text in images (OCR): RapidOCR's PP-OCRv4 models (shipped inside the wheel), Chinese and English. Pure: no Django.

The engine is loaded once per process, on first use. Output is normalised for matching: full-width ASCII forms
(：（）Ａ１) become ASCII, boxes on one visual row are joined left to right, and a code glued to the word before it
("ERRORE-2047", a space PP-OCRv4 tends to drop) is split off again.
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
from PIL import Image, ImageOps

MODEL_NAME = "rapidocr-onnxruntime PP-OCRv4 (zh+en)"
# Detection runs on the image scaled so its longer side is at most this (PaddleOCR's server default). The
# package's own default scales the *shorter* side up to 736 px, which makes a small screenshot 3-4x slower.
DET_MAX_SIDE = 960
MAX_PIXELS = 50_000_000  # refuse decompression bombs before they are decoded
MIN_CONFIDENCE = 0.5


def model_version() -> str:
    try:
        return version("rapidocr-onnxruntime")
    except PackageNotFoundError:  # pragma: no cover - the dependency is pinned
        return "unknown"


@dataclass(frozen=True)
class OcrBox:
    """One detected text box: its text, the recogniser's confidence and its corners (x0, y0, x1, y1)."""

    text: str
    confidence: float
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)

    @property
    def middle(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class OcrResult:
    """The text read from one image, line by line, with the time it took."""

    text: str
    lines: tuple[str, ...]
    boxes: tuple[OcrBox, ...]
    seconds: float
    width: int
    height: int

    @property
    def confidence(self) -> float:
        """Mean recogniser confidence over the boxes (0 when nothing was read)."""
        return sum(b.confidence for b in self.boxes) / len(self.boxes) if self.boxes else 0.0


class ImageUnreadable(ValueError):
    """The bytes are not an image Pillow can open (or it is too large to open safely)."""


# --- normalisation (pure string functions) -------------------------------------------------------------------------

# Full-width ASCII forms U+FF01..U+FF5E map onto ASCII 0x21..0x7E; a few CJK brackets and the ideographic space too.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH.update({0x3000: 0x20, ord("【"): ord("["), ord("】"): ord("]"), ord("〔"): ord("("), ord("〕"): ord(")")})
# Words that precede a code on device screens, when OCR glued them together: "ERRORE-2047" → "ERROR E-2047".
_GLUED_CODE = re.compile(
    r"\b(ERROR|ERR(?!OR)|FAULT|ALARM|WARNING|WARN(?!ING)|CODE|STATUS)(?=[A-Z]{1,3}-?\d|\d)", re.IGNORECASE
)
_LABEL_COLON = re.compile(r"\b([A-Za-z]{2,}):(?=[A-Za-z0-9])")  # "Model:PD-X300" → "Model: PD-X300" (not 12:30)
_SPACES = re.compile(r"[ \t]+")


def normalise_text(text: str) -> str:
    """Make OCR text easier to match: full-width ASCII to ASCII, glued codes split, runs of spaces collapsed."""
    text = text.translate(_FULL_WIDTH)
    text = _GLUED_CODE.sub(r"\1 ", text)
    text = _LABEL_COLON.sub(r"\1: ", text)
    return _SPACES.sub(" ", text).strip()


def group_lines(boxes: list[OcrBox]) -> list[str]:
    """Boxes on the same visual row (vertical middles within half a box height) joined left to right, rows top
    to bottom. RapidOCR returns one box per text run, so "Model:" and "PD-X300" can come back as two boxes."""
    rows: list[list[OcrBox]] = []
    for box in sorted(boxes, key=lambda b: (b.middle, b.x0)):
        if rows and _same_row(box, rows[-1]):
            rows[-1].append(box)
        else:
            rows.append([box])
    return [" ".join(b.text for b in sorted(row, key=lambda b: b.x0)) for row in rows]


def _same_row(box: OcrBox, row: list[OcrBox]) -> bool:
    middle = sum(b.middle for b in row) / len(row)
    return abs(box.middle - middle) <= min(box.height, row[0].height) / 2


# --- image loading -------------------------------------------------------------------------------------------------


def open_image(data: bytes | Path | Image.Image) -> Image.Image:
    """An RGB image upright as the camera saw it (EXIF rotation applied; transparency over white)."""
    if isinstance(data, Image.Image):
        image = data
    else:
        source: Any = io.BytesIO(data) if isinstance(data, bytes) else data
        try:
            image = Image.open(source)
            if image.width * image.height > MAX_PIXELS:
                raise ImageUnreadable(f"image too large to read ({image.width}x{image.height})")
            image.load()
        except (OSError, Image.DecompressionBombError, SyntaxError) as exc:
            raise ImageUnreadable(str(exc) or "unreadable image") from exc
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return image.convert("RGB")


# --- the engine ----------------------------------------------------------------------------------------------------

_lock = threading.Lock()
_run_lock = threading.Lock()  # one image at a time per process: the engine already uses every core
_engine: Any = None


def engine() -> Any:
    """The RapidOCR engine of this process (loaded on first use, ~1 s; models come from the wheel)."""
    global _engine  # noqa: PLW0603 - one engine per process, loaded lazily
    if _engine is None:
        with _lock:
            if _engine is None:
                from rapidocr_onnxruntime import RapidOCR

                _engine = RapidOCR(det_limit_type="max", det_limit_side_len=DET_MAX_SIDE)
    return _engine


def read_image(data: bytes | Path | Image.Image) -> OcrResult:
    """Read the text in an image (bytes of any format Pillow opens, a path, or a Pillow image)."""
    image = open_image(data)
    started = time.perf_counter()
    with _run_lock:
        result, _elapsed = engine()(image)
    boxes = []
    for corners, text, score in result or []:
        points = np.asarray(corners, dtype=float)
        if float(score) < MIN_CONFIDENCE or not str(text).strip():
            continue
        boxes.append(
            OcrBox(
                text=normalise_text(str(text)),
                confidence=float(score),
                x0=float(points[:, 0].min()),
                y0=float(points[:, 1].min()),
                x1=float(points[:, 0].max()),
                y1=float(points[:, 1].max()),
            )
        )
    lines = tuple(normalise_text(line) for line in group_lines(boxes))
    return OcrResult(
        text="\n".join(lines),
        lines=lines,
        boxes=tuple(boxes),
        seconds=time.perf_counter() - started,
        width=image.width,
        height=image.height,
    )
