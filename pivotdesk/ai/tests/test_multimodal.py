"""The multimodal step on real tickets: attachments read once, text stored beside them, transcription status on the
message, texts handed on in extra_text, searchable, and shown to the agent."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai.domain.steps import TriageInput
from pivotdesk.ai.services import multimodal
from pivotdesk.ai.tests import media
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Attachment, Message
from pivotdesk.tickets.services.messages import attachment_set_extracted_text, message_create

pytestmark = pytest.mark.django_db


def customer_message(ticket, files, *, metadata=None, body=""):
    actor = Actor.for_contact(ticket.requester_id, "customer")
    return message_create(
        ticket=ticket, actor=actor, body=body, as_customer=True, attachments=files, metadata=metadata, channel="chat"
    )


def triage_input(ticket):
    return TriageInput(workspace_id=ticket.workspace_id, ticket_id=ticket.pk, subject=ticket.subject, text="")


@pytest.fixture
def asr_model(settings):
    settings.PIVOTDESK_ASR_MODEL_PATH = str(media.require_asr_model())
    return settings.PIVOTDESK_ASR_MODEL_PATH


def test_photo_of_an_error_screen_puts_code_and_model_on_the_ticket(ticket):
    message = customer_message(ticket, [("screen.jpg", media.jpeg(media.error_screen_photo()), "image/jpeg")])
    out = multimodal.run_step(triage_input(ticket))
    assert len(out.extra_text) == 1
    assert "E-2047" in out.extra_text[0] and "PD-X300" in out.extra_text[0] and "打印头过热" in out.extra_text[0]
    attachment = Attachment.objects.get(message=message)
    assert attachment.extracted_text == out.extra_text[0]
    [row] = out.data["attachments"]
    assert row["attachment_id"] == attachment.pk and row["source"] == "ocr" and "PP-OCRv4" in row["model"]
    assert row["seconds"] > 0 and "error" not in row
    note = Message.objects.get(pk=message.pk).metadata["extracted"][str(attachment.pk)]
    assert note["source"] == "ocr" and note["chars"] == len(attachment.extracted_text)
    # The next steps see it through the input's full text.
    inp = triage_input(ticket)
    inp.extra_text = out.extra_text
    assert "PD-X300" in inp.full_text

    again = multimodal.run_step(triage_input(ticket))  # read once: the next run only hands the text on
    assert again.data["attachments"] == [] and again.data["already_read"] == [attachment.pk]
    assert again.extra_text == out.extra_text


def test_voice_message_is_transcribed_and_marked_done(ticket, asr_model):
    wav = media.speak("Hello, my printer is broken. Please send a technician.")
    message = customer_message(ticket, [("voice.wav", wav, "audio/wav")], metadata={"transcription": "queued"})
    out = multimodal.run_step(triage_input(ticket))
    assert "printer" in out.extra_text[0].lower()
    message.refresh_from_db()
    assert message.metadata["transcription"] == "done"
    [row] = out.data["attachments"]
    assert row["source"] == "asr" and "faster-whisper" in row["model"] and row["audio_seconds"] > 2
    assert 0 < row["real_time_factor"] < 2


def test_without_a_speech_model_the_voice_message_says_why_and_is_retried_later(ticket, settings):
    settings.PIVOTDESK_ASR_MODEL_PATH = ""
    wav = media.speak("Please call me back.")
    message = customer_message(ticket, [("voice.wav", wav, "audio/wav")], metadata={"transcription": "queued"})
    out = multimodal.run_step(triage_input(ticket))
    message.refresh_from_db()
    assert out.extra_text == [] and "PIVOTDESK_ASR_MODEL_PATH" in out.data["attachments"][0]["error"]
    assert message.metadata["transcription"] == "failed"
    assert "PIVOTDESK_ASR_MODEL_PATH" in message.metadata["transcription_error"]

    settings.PIVOTDESK_ASR_MODEL_PATH = str(media.require_asr_model())  # configured later: the next run reads it
    out = multimodal.run_step(triage_input(ticket))
    message.refresh_from_db()
    assert "call" in out.extra_text[0].lower()
    assert message.metadata["transcription"] == "done" and "transcription_error" not in message.metadata


def test_video_gives_screen_text_and_speech(ticket, asr_model):
    screens = [media.text_image(["ERROR E-2047", "打印头过热"]), media.text_image(["Model: PD-X300"])]
    clip = media.video(screens, audio_wav=media.speak("The printer shows an error."))
    message = customer_message(ticket, [("clip.mp4", clip, "video/mp4")], metadata={"transcription": "queued"})
    out = multimodal.run_step(triage_input(ticket))
    text = out.extra_text[0]
    assert "E-2047" in text and "PD-X300" in text and "打印头过热" in text and "printer" in text.lower()
    [row] = out.data["attachments"]
    assert row["source"] == "video" and len(row["keyframes"]) == 2 and "faster-whisper" in row["model"]
    message.refresh_from_db()
    assert message.metadata["transcription"] == "done"


def test_other_files_are_ignored_and_a_broken_image_does_not_stop_the_others(ticket):
    customer_message(
        ticket,
        [
            ("notes.pdf", b"%PDF-1.4 nothing", "application/pdf"),
            ("broken.png", b"\x89PNG broken", "image/png"),
            ("label.png", media.png(media.text_image(["SN: PD-77813"], size=(400, 100))), "image/png"),
        ],
    )
    out = multimodal.run_step(triage_input(ticket))
    rows = {row["filename"]: row for row in out.data["attachments"]}
    assert set(rows) == {"broken.png", "label.png"}
    assert rows["broken.png"]["error"] and "error" not in rows["label.png"]
    assert out.extra_text == [Attachment.objects.get(filename="label.png").extracted_text]
    assert "PD-77813" in out.extra_text[0]


def test_ticket_without_attachments_gives_an_empty_output(ticket):
    out = multimodal.run_step(triage_input(ticket))
    assert out.extra_text == [] and out.data["attachments"] == []


def test_attachment_text_is_searchable(ticket, workspace, agent):
    attachment = customer_message(ticket, [("a.png", b"png", "image/png")]).attachments.get()
    attachment_set_extracted_text(
        actor=Actor.system(), attachment=attachment, text="ERROR E-2047\nModel: PD-X300", source="ocr", model="t"
    )
    filters = ticket_selectors.TicketFilters(q="PD-X300")
    found = ticket_selectors.ticket_list(workspace=workspace, agent=agent, filters=filters)
    assert list(found) == [ticket]
    nothing = ticket_selectors.TicketFilters(q="PD-X999")
    assert not ticket_selectors.ticket_list(workspace=workspace, agent=agent, filters=nothing).exists()


def test_unknown_extraction_source_is_refused(ticket):
    attachment = customer_message(ticket, [("a.png", b"png", "image/png")]).attachments.get()
    with pytest.raises(ValidationFailed):
        attachment_set_extracted_text(actor=Actor.system(), attachment=attachment, text="x", source="magic", model="t")


def test_agent_sees_the_text_beside_the_attachment_and_queued_transcriptions(ticket, agent_client):
    image = customer_message(ticket, [("screen.png", b"png", "image/png")]).attachments.get()
    attachment_set_extracted_text(
        actor=Actor.system(), attachment=image, text="ERROR E-2047\n打印头过热", source="ocr", model="t"
    )
    customer_message(ticket, [("voice.amr", b"#!AMR\n", "audio/amr")], metadata={"transcription": "queued"})
    html = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Text in the image" in html and "ERROR E-2047<br>打印头过热" in html
    assert "Transcribing…" in html


def test_pipeline_turns_the_error_screen_photo_into_entities(ticket, workspace):
    """End to end through the pipeline: the photo's error code and model number become the ticket's entities
    (device models are recognised from the workspace's product catalog)."""
    from pivotdesk.ai import pipeline
    from pivotdesk.ai.models import ExtractedEntity

    workspace.settings = {**(workspace.settings or {}), "ai": {"entities": {"catalog": ["PD-X300", "PD-X500"]}}}
    workspace.save(update_fields=["settings"])
    message = customer_message(ticket, [("screen.jpg", media.jpeg(media.error_screen_photo()), "image/jpeg")])
    outcome = pipeline.triage_ticket(ticket_id=ticket.pk, message_id=message.pk, steps=("multimodal", "entities"))
    assert outcome is not None and outcome["multimodal"] == "succeeded"
    found = {(e.kind, e.value, e.source) for e in ExtractedEntity.objects.filter(ticket=ticket)}
    assert ("error_code", "E-2047", "ocr") in found
    assert ("device_model", "PD-X300", "ocr") in found


@pytest.fixture
def multilingual_asr_model(settings):
    path = media.require_multilingual_asr_model()
    settings.PIVOTDESK_ASR_MODEL_PATH = str(path)
    return path


def test_a_mandarin_voice_message_is_heard_in_chinese(ticket, multilingual_asr_model):
    # Given a workspace serving Chinese and English and a multilingual speech model
    wav = media.speak("你好，我想问一下，我的订单什么时候发货？", voice="cmn-latn-pinyin")
    customer_message(ticket, [("voice.amr.wav", wav, "audio/wav")], metadata={"transcription": "queued"})
    # When the multimodal step reads the voice message
    inp = triage_input(ticket)
    inp.languages = ("zh", "en")
    out = multimodal.run_step(inp)
    # Then its text is Chinese, in simplified characters, and the language heard is recorded
    [row] = out.data["attachments"]
    assert row["source"] == "asr" and row["language"] == "zh"
    assert "我想问一下" in out.extra_text[0]
