"""The multimodal step: text out of a ticket's images (OCR), voice (speech to text) and videos (keyframes through OCR
plus the sound track through speech to text), stored beside each attachment and handed to the following steps.

`run_step(inp)` is what the pipeline calls. It reads every attachment first and writes all results at the end, so a
slow recording never holds a database write lock. An attachment already read is not read again (its message notes
what read it); one that failed (unreadable, or no speech model configured yet) is tried again on the next run.
"""

from __future__ import annotations

import logging
import mimetypes
import time
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.conf import settings

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai.domain import asr, ocr, video
from pivotdesk.ai.domain.steps import StepOutput, TriageInput
from pivotdesk.tickets.models import Attachment
from pivotdesk.tickets.services.messages import attachment_set_extracted_text

log = logging.getLogger(__name__)

STEP_NAME = "multimodal"
MAX_ATTACHMENTS_PER_RUN = 10  # the rest wait for the next run (each image ~1 s, each minute of speech ~15 s)
MIN_IMAGE_SIDE = 24  # tracking pixels and icons carry no text worth reading
UNREADABLE_IMAGE_TYPES = ("image/svg+xml",)
_READER = Actor(kind="ai", label="multimodal")  # who stores the text read from an attachment


@dataclass
class Extraction:
    """What reading one attachment gave: its text, what read it, how long it took, or why it failed."""

    attachment: Attachment
    kind: str
    source: str
    text: str = ""
    model: str = ""
    seconds: float = 0.0
    error: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "attachment_id": self.attachment.pk,
            "filename": self.attachment.filename,
            "kind": self.kind,
            "source": self.source,
            "model": self.model,
            "seconds": round(self.seconds, 3),
            "chars": len(self.text),
            **self.details,
        }
        if self.error:
            row["error"] = self.error
        return row


def media_kind(content_type: str, filename: str) -> str | None:
    """image, audio or video (by content type, else by file name), or None for anything else."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if not kind or kind == "application/octet-stream":
        kind = (mimetypes.guess_type(filename)[0] or "").lower()
    if kind in UNREADABLE_IMAGE_TYPES:
        return None
    top = kind.split("/")[0]
    if top in ("image", "audio", "video"):
        return top
    if PurePath(filename).suffix.lower() in (".amr", ".silk", ".opus", ".m4a"):
        return "audio"
    return None


def ocr_model() -> str:
    return f"{ocr.MODEL_NAME} {ocr.model_version()}"


def asr_model_path() -> str:
    return str(getattr(settings, "PIVOTDESK_ASR_MODEL_PATH", "") or "")


# --- reading one attachment (no database writes) ------------------------------------------------------------------


def read_image(data: bytes) -> tuple[str, dict[str, Any]]:
    result = ocr.read_image(data)
    if min(result.width, result.height) < MIN_IMAGE_SIDE:
        return "", {"size": [result.width, result.height], "note": "too small to hold text"}
    return result.text, {"size": [result.width, result.height], "confidence": round(result.confidence, 3)}


def read_speech(data: bytes, *, languages: tuple[str, ...]) -> tuple[asr.Transcript, dict[str, Any]]:
    samples, truncated = asr.decode_audio(data)
    transcript = asr.transcribe(samples, model_path=asr_model_path(), languages=languages, truncated=truncated)
    details = {
        "audio_seconds": round(transcript.audio_seconds, 2),
        "real_time_factor": round(transcript.real_time_factor, 3),
        "language": transcript.language,
    }
    if truncated:
        details["truncated_at_seconds"] = asr.MAX_SECONDS
    return transcript, details


def read_video(data: bytes, *, languages: tuple[str, ...]) -> tuple[str, str, dict[str, Any], str]:
    """(text, model, details, error): the distinct lines on screen, then what is said (when there is sound)."""
    frames, duration = video.keyframes(data)
    frame_texts = [ocr.read_image(frame.image).text for frame in frames]
    lines = video.merge_lines(frame_texts)
    details: dict[str, Any] = {
        "duration_seconds": round(duration, 2),
        "keyframes": [round(f.seconds, 2) for f in frames],
    }
    models = [ocr_model()]
    error = ""
    speech = ""
    if asr.has_audio(data):
        try:
            transcript, speech_details = read_speech(data, languages=languages)
            speech = transcript.text
            models.append(transcript.model)
            details.update(speech_details)
        except (asr.AsrUnavailable, asr.AudioUnreadable) as exc:
            error = f"sound track not transcribed: {exc}"
    else:
        details["audio"] = "none"
    text = "\n".join([*lines, speech] if speech else lines)
    return text, " + ".join(models), details, error


def extract(attachment: Attachment, *, languages: tuple[str, ...] = ("zh", "en")) -> Extraction | None:
    """Read the text of one attachment (image, audio or video); None when it is none of those."""
    kind = media_kind(attachment.content_type, attachment.filename)
    if kind is None:
        return None
    source = {"image": "ocr", "audio": "asr", "video": "video"}[kind]
    out = Extraction(attachment=attachment, kind=kind, source=source)
    started = time.perf_counter()
    try:
        with attachment.file.open("rb") as handle:
            data = handle.read()
        if kind == "image":
            out.model = ocr_model()
            out.text, out.details = read_image(data)
        elif kind == "audio":
            out.model = asr.model_label(asr_model_path()) if asr_model_path() else "faster-whisper (no model)"
            transcript, out.details = read_speech(data, languages=languages)
            out.text, out.model = transcript.text, transcript.model
        else:
            out.text, out.model, out.details, out.error = read_video(data, languages=languages)
    except (ocr.ImageUnreadable, asr.AudioUnreadable, video.VideoUnreadable, asr.AsrUnavailable) as exc:
        out.error = str(exc)
    except Exception as exc:  # one bad file must not stop the others (nor the step)
        log.exception("multimodal: reading attachment %s failed", attachment.pk)
        out.error = f"{type(exc).__name__}: {exc}"
    out.seconds = time.perf_counter() - started
    return out


def _already_read(attachment: Attachment) -> bool:
    if attachment.extracted_text:
        return True
    if attachment.message_id is None or attachment.message is None:
        return False
    notes = (attachment.message.metadata or {}).get("extracted")
    note = notes.get(str(attachment.pk)) if isinstance(notes, dict) else None
    return isinstance(note, dict) and not note.get("error")


# --- the step ------------------------------------------------------------------------------------------------------


def run_step(inp: TriageInput) -> StepOutput:
    """Read the ticket's images, voice and videos that have no text yet, store each text beside its attachment
    (and the message's transcription status), and return every attachment text of the ticket in extra_text.
    data["attachments"] records, per attachment read now, the model, the time taken and any error."""
    attachments = list(
        Attachment.objects.filter(workspace_id=inp.workspace_id, ticket_id=inp.ticket_id)
        .select_related("message")
        .order_by("pk")
    )
    languages = tuple(inp.languages) or ("zh", "en")
    todo = [a for a in attachments if media_kind(a.content_type, a.filename) and not _already_read(a)]
    waiting = todo[MAX_ATTACHMENTS_PER_RUN:]
    results = [r for r in (extract(a, languages=languages) for a in todo[:MAX_ATTACHMENTS_PER_RUN]) if r]
    for result in results:  # all writes at the end: reading took the time, writing takes milliseconds
        attachment_set_extracted_text(
            attachment=result.attachment,
            actor=_READER,
            text=result.text,
            source=result.source,
            model=result.model,
            error=result.error,
        )
    read_now = {r.attachment.pk for r in results}
    return StepOutput(
        model_name=STEP_NAME,
        model_version=f"rapidocr {ocr.model_version()}, faster-whisper {asr.engine_version()}",
        extra_text=[a.extracted_text for a in attachments if a.extracted_text.strip()],
        data={
            "attachments": [r.summary() for r in results],
            "already_read": [a.pk for a in attachments if a.extracted_text and a.pk not in read_now],
            "waiting": [a.pk for a in waiting],
            "seconds": round(sum(r.seconds for r in results), 3),
        },
    )
