"""Video: distinct keyframes through OCR, the sound track through speech to text, on tiny videos encoded at test
time with PyAV (H.264 + AAC in MP4, VP8 + Opus in WebM)."""

from __future__ import annotations

import pytest

from pivotdesk.ai.domain import asr, ocr, video
from pivotdesk.ai.tests import media


def test_thin_evenly_keeps_first_and_last():
    assert video.thin_evenly(list(range(10)), 4) == [0, 3, 6, 9]
    assert video.thin_evenly([1, 2], 5) == [1, 2]
    assert video.thin_evenly([1, 2, 3], 1) == [1]
    assert video.thin_evenly([1, 2, 3], 0) == []


def test_merge_lines_keeps_each_line_once_in_order():
    assert video.merge_lines(["ERROR E-2047\n打印头过热", "打印头过热\nCall 400", ""]) == [
        "ERROR E-2047",
        "打印头过热",
        "Call 400",
    ]


def test_a_one_digit_change_is_a_different_picture():
    a = video.thumbnail(media.text_image(["ERROR E-2047", "打印头过热"]))
    b = video.thumbnail(media.text_image(["ERROR E-2048", "打印头过热"]))
    assert video.same_picture(a, a) and not video.same_picture(a, b)


def test_not_a_video_is_unreadable():
    with pytest.raises(video.VideoUnreadable):
        video.keyframes(b"\x00\x01 not a video")
    with pytest.raises(video.VideoUnreadable, match="no video stream"):
        video.keyframes(media.speak("just sound"))


def test_small_video_keyframe_text_and_speech_are_extracted():
    model = media.require_asr_model()
    screens = [media.text_image(["ERROR E-2047", "打印头过热"]), media.text_image(["Model: PD-X300", "请联系客服"])]
    wav = media.speak("The printer stopped with an error. Please call me back.")
    clip = media.video(screens, audio_wav=wav, container="mp4")
    frames, duration = video.keyframes(clip)
    assert len(frames) == 2 and duration > 2  # the repeated keyframes of each screen are kept once
    text = "\n".join(video.merge_lines([ocr.read_image(f.image).text for f in frames]))
    assert "E-2047" in text and "打印头过热" in text and "PD-X300" in text and "请联系客服" in text
    samples, _ = asr.decode_audio(clip)  # the sound track of the MP4
    speech = asr.transcribe(samples, model_path=model).text.lower()
    assert "printer" in speech and "error" in speech


def test_webm_keyframes_and_sound_track_are_read():
    screens = [media.text_image(["ERROR E-2047"]), media.text_image(["Model: PD-X300"])]
    clip = media.video(screens, audio_wav=media.speak("hello"), container="webm")
    frames, _ = video.keyframes(clip)
    assert len(frames) == 2 and asr.has_audio(clip)
    assert "PD-X300" in ocr.read_image(frames[1].image).text


def test_long_video_is_thinned_to_the_frame_limit():
    screens = [media.text_image([f"Step {i}"], size=(320, 120)) for i in range(12)]
    clip = media.video(screens, seconds_per_frame=1.0, fps=2)
    frames, _ = video.keyframes(clip, max_frames=3)
    assert len(frames) == 3
    assert frames[0].seconds == 0.0 and frames[-1].seconds >= 8
