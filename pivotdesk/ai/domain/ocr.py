"""Text in images (OCR): RapidOCR's PP-OCRv4 models (shipped inside the wheel), Chinese and English. Pure: no Django.

The engine is loaded once per process, on first use. Output is normalised for matching: full-width ASCII forms
(：（）Ａ１) become ASCII, boxes on one visual row are joined left to right, and a code glued to the word before it
("ERRORE-2047", a space PP-OCRv4 tends to drop) is split off again.

Speed (bench/ai_media.py; target <= 1.5 s per image on 2 shared cores) comes from doing less work, not more threads:
- detection runs on the image scaled to DET_MAX_SIDE. RapidOCR 1.4.4 ignores its own det_limit_side_len when the
  limit type is "max" (it picks 960/1500/2000 from the image size, so a 1280x960 photo was detected at full size);
  the detector's pre-processing is pinned here. Text is still recognised from the full-resolution crops.
- big photos are decoded at reduced scale (JPEG DCT scaling) to at most MAX_SIDE, the engine's own working limit.
- the text-angle classifier (upside-down lines) runs only on lines read with low confidence, and a line is turned
  only when the turned reading is better. Run on every line it cost time and, on a dense page, turned correct lines
  upside down (7 of 18 lost).
- the recogniser reads one line per run: batching pads every line to the widest of its batch, which costs more than
  it saves on CPU.
- onnxruntime runs each model on one thread, without spinning; the lines of an image are recognised by WORKERS
  threads (2 by default, PIVOTDESK_OCR_WORKERS to change) that each take the next line when done. onnxruntime's own
  intra-op threads meet at every layer, so one of them waiting for a busy sibling core holds up the other; workers
  over lines never wait for each other, and the one on the busy core simply reads fewer lines.
"""

from __future__ import annotations

import io
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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
MAX_SIDE = 2000  # the engine's working limit (its max_side_len): bigger photos are decoded smaller
MAX_PIXELS = 50_000_000  # refuse decompression bombs before they are decoded
MIN_CONFIDENCE = 0.5
RETRY_TURNED_BELOW = 0.85  # a line read with less confidence is shown to the angle classifier
WORKERS = max(1, int(os.environ.get("PIVOTDESK_OCR_WORKERS", "2") or 1))


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


def open_image(data: bytes | Path | Image.Image, *, max_side: int | None = None) -> Image.Image:
    """An RGB image upright as the camera saw it (EXIF rotation applied; transparency over white); with `max_side`,
    scaled down so neither side is longer (a JPEG is decoded at reduced scale, which is much faster)."""
    if isinstance(data, Image.Image):
        image = data
    else:
        source: Any = io.BytesIO(data) if isinstance(data, bytes) else data
        try:
            image = Image.open(source)
            if image.width * image.height > MAX_PIXELS:
                raise ImageUnreadable(f"image too large to read ({image.width}x{image.height})")
            if max_side and max(image.size) > max_side:
                # DCT scaling by 1/2, 1/4 or 1/8, never below the requested size (JPEG only; others ignore it)
                scale = max_side / max(image.size)
                image.draft("RGB", (max(1, round(image.width * scale)), max(1, round(image.height * scale))))
            image.load()
        except (OSError, Image.DecompressionBombError, SyntaxError) as exc:
            raise ImageUnreadable(str(exc) or "unreadable image") from exc
    if max_side and max(image.size) > max_side:
        image = image.copy() if image is data else image
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return image.convert("RGB")


# --- the engine ----------------------------------------------------------------------------------------------------

_lock = threading.Lock()
_run_lock = threading.Lock()  # one image at a time per process: each image already keeps its workers busy
_engine: Any = None
_workers: ThreadPoolExecutor | None = None


def _session_options(threads: int = 1) -> Any:
    from onnxruntime import GraphOptimizationLevel, SessionOptions  # type: ignore[import-untyped]

    options = SessionOptions()
    options.log_severity_level = 4
    options.graph_optimization_level = GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _tune(rapid: Any, threads: int = 1) -> Any:
    """Pin the detector's scaling to DET_MAX_SIDE and run the three models on `threads` non-spinning threads."""
    from onnxruntime import InferenceSession
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    detector = rapid.text_det
    preprocess = DetPreProcess(DET_MAX_SIDE, "max", detector.mean, detector.std)
    detector.get_preprocess = lambda _longest_side: preprocess
    for holder in (detector.infer, rapid.text_cls.infer, rapid.text_rec.session):
        path = getattr(holder.session, "_model_path", None)
        if isinstance(path, str) and Path(path).is_file():
            options = _session_options(threads)
            holder.session = InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    return rapid


def engine() -> Any:
    """The RapidOCR engine of this process (loaded on first use, ~1 s; models come from the wheel)."""
    global _engine  # noqa: PLW0603 - one engine per process, loaded lazily
    if _engine is None:
        with _lock:
            if _engine is None:
                from rapidocr_onnxruntime import RapidOCR

                rapid = RapidOCR(
                    det_limit_type="max",
                    det_limit_side_len=DET_MAX_SIDE,
                    max_side_len=MAX_SIDE,
                    text_score=0.0,  # every line comes back: a low score may be an upside-down line to turn
                    rec_batch_num=1,
                    intra_op_num_threads=1,
                    inter_op_num_threads=1,
                )
                _engine = _tune(rapid)
    return _engine


def _recognise(rapid: Any, crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """Each line crop read by the recogniser, on WORKERS threads taking the next line (longest first) when free."""
    global _workers  # noqa: PLW0603 - one small pool per process, made on first use

    def read(crop: np.ndarray) -> tuple[str, float]:
        (reading, *_rest), _elapsed = rapid.text_rec([crop])
        return str(reading[0]), float(reading[1])

    if WORKERS == 1 or len(crops) < 2:
        return [read(crop) for crop in crops]
    if _workers is None:
        _workers = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="ocr")
    order = sorted(range(len(crops)), key=lambda i: -crops[i].shape[1] / max(crops[i].shape[0], 1))
    readings = dict(zip(order, _workers.map(read, [crops[i] for i in order]), strict=True))
    return [readings[i] for i in range(len(crops))]


def _turn_doubtful_lines(rapid: Any, bgr: np.ndarray, lines: list[tuple[np.ndarray, str, float]]) -> None:
    """Lines read with low confidence go to the angle classifier; one it finds upside down is read again turned,
    and the turned reading replaces the first only when it is more confident."""
    doubtful = [i for i, (_corners, _text, score) in enumerate(lines) if score < RETRY_TURNED_BELOW]
    if not doubtful:
        return
    crops = rapid.get_crop_img_list(bgr, [lines[i][0] for i in doubtful])
    turned_crops, angles, _elapsed = rapid.text_cls(crops)
    turned = [
        (i, crop)
        for i, crop, (label, score) in zip(doubtful, turned_crops, angles, strict=True)
        if "180" in str(label) and float(score) > rapid.text_cls.cls_thresh
    ]
    if not turned:
        return
    readings = _recognise(rapid, [crop for _, crop in turned])
    for (i, _crop), (text, score) in zip(turned, readings, strict=True):
        if score > lines[i][2]:
            lines[i] = (lines[i][0], text, score)


def read_image(data: bytes | Path | Image.Image) -> OcrResult:
    """Read the text in an image (bytes of any format Pillow opens, a path, or a Pillow image)."""
    image = open_image(data, max_side=MAX_SIDE)
    bgr = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])  # the models were trained on OpenCV's BGR
    started = time.perf_counter()
    with _run_lock:
        rapid = engine()
        found, _elapsed = rapid(bgr, use_cls=False, use_rec=False)  # the boxes, in this image's coordinates
        corners = [np.asarray(box, dtype=np.float32) for box in found or []]
        readings = _recognise(rapid, rapid.get_crop_img_list(bgr, corners)) if corners else []
        lines = [(box, text, score) for box, (text, score) in zip(corners, readings, strict=True)]
        _turn_doubtful_lines(rapid, bgr, lines)
    boxes = []
    for points, text, score in lines:
        if score < MIN_CONFIDENCE or not text.strip():
            continue
        boxes.append(
            OcrBox(
                text=normalise_text(text),
                confidence=score,
                x0=float(points[:, 0].min()),
                y0=float(points[:, 1].min()),
                x1=float(points[:, 0].max()),
                y1=float(points[:, 1].max()),
            )
        )
    lines_out = tuple(normalise_text(line) for line in group_lines(boxes))
    return OcrResult(
        text="\n".join(lines_out),
        lines=lines_out,
        boxes=tuple(boxes),
        seconds=time.perf_counter() - started,
        width=image.width,
        height=image.height,
    )
