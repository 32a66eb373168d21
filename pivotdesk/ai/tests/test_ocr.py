"""OCR: normalisation and line grouping (pure), and real PP-OCRv4 reads of images rendered at test time."""

from __future__ import annotations

import pytest
from PIL import Image

from pivotdesk.ai.domain import ocr
from pivotdesk.ai.tests import media


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("型号：PD-X300（白色）", "型号:PD-X300(白色)"),
        ("ＥＲＲＯＲ　Ｅ－２０４７", "ERROR E-2047"),
        ("【故障】代码E-1", "[故障]代码E-1"),
        ("ERRORE-2047", "ERROR E-2047"),
        ("error404", "error 404"),
        ("ERROR-2047", "ERROR-2047"),  # already separated by a dash: left alone
        ("Model:PD-X300", "Model: PD-X300"),
        ("at 12:30 today", "at 12:30 today"),
        ("see https://example.com/x", "see https://example.com/x"),
        ("  two   spaces  ", "two spaces"),
    ],
)
def test_normalise_text(raw, expected):
    assert ocr.normalise_text(raw) == expected


def box(text, x0, y0, x1, y1):
    return ocr.OcrBox(text=text, confidence=0.9, x0=x0, y0=y0, x1=x1, y1=y1)


def test_boxes_on_one_row_are_joined_left_to_right_rows_top_to_bottom():
    boxes = [box("PD-X300", 200, 102, 300, 136), box("打印头过热", 30, 170, 210, 208), box("Model:", 30, 100, 150, 135)]
    assert ocr.group_lines(boxes) == ["Model: PD-X300", "打印头过热"]


def test_garbage_is_unreadable_not_a_crash():
    with pytest.raises(ocr.ImageUnreadable):
        ocr.read_image(b"not an image at all")


def test_transparent_and_palette_images_are_read_on_white():
    image = ocr.open_image(Image.new("RGBA", (40, 20), (0, 0, 0, 0)))
    assert image.mode == "RGB" and image.getpixel((5, 5)) == (255, 255, 255)


def test_chinese_and_english_rendered_image_is_read_back():
    image = media.text_image(
        ["退款申请 Refund request", "订单号 Order: 2026-0415", "客服电话 400-800-1234"], size=(760, 260)
    )
    result = ocr.read_image(media.png(image))
    assert "退款申请" in result.text and "Refund" in result.text
    assert "2026-0415" in result.text and "400-800-1234" in result.text
    assert "客服电话" in result.text
    assert len(result.lines) == 3 and result.confidence > 0.8


def test_photo_of_a_device_error_screen_yields_code_and_model():
    """The issue's example: a photo of a device's error screen gives the error code and model number."""
    photo = media.jpeg(media.error_screen_photo())
    result = ocr.read_image(photo)
    assert "E-2047" in result.text
    assert "PD-X300" in result.text
    assert "打印头过热" in result.text
    assert "ERROR E-2047" in result.text  # the word OCR glues to the code is split off again


def test_full_width_punctuation_on_screen_is_normalised():
    image = media.text_image(["型号：PD-X300（白色）"], size=(560, 100))
    assert "型号:PD-X300(白色)" in ocr.read_image(image).text.replace(" ", "")


def test_rotated_phone_photo_is_read_upright():
    """Phones store portrait photos sideways with an EXIF orientation tag."""
    upright = media.text_image(["ERROR E-2047"], size=(480, 120))
    sideways = upright.rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 8  # "rotate 90 CW to view" (the stored pixels are turned 90 CCW)
    import io

    buffer = io.BytesIO()
    sideways.save(buffer, format="JPEG", exif=exif)
    assert "E-2047" in ocr.read_image(buffer.getvalue()).text


# --- speed settings that must not cost accuracy -----------------------------------------------------------------


def test_detection_runs_at_most_at_the_pinned_side_length():
    """RapidOCR 1.4.4 ignores det_limit_side_len with the "max" limit type; the engine pins it."""
    detector = ocr.engine().text_det
    for longest_side in (640, 1280, 1500, 4000):
        assert detector.get_preprocess(longest_side).limit_side_len == ocr.DET_MAX_SIDE


def test_a_big_jpeg_is_decoded_smaller_and_still_read():
    # Given a 12-megapixel phone photo of the error screen
    photo = media.error_screen_photo().resize((4000, 3000))
    data = media.jpeg(photo)
    # Then it is decoded at most MAX_SIDE wide, and the code and the model are still read
    assert max(ocr.open_image(data, max_side=ocr.MAX_SIDE).size) <= ocr.MAX_SIDE
    result = ocr.read_image(data)
    assert "E-2047" in result.text and "PD-X300" in result.text
    assert max(result.width, result.height) <= ocr.MAX_SIDE


def test_a_big_png_is_scaled_down_and_a_caller_image_left_alone():
    image = Image.new("RGB", (3000, 1000), (255, 255, 255))
    assert ocr.open_image(media.png(image), max_side=ocr.MAX_SIDE).size == (2000, 667)
    assert ocr.open_image(image, max_side=ocr.MAX_SIDE).size == (2000, 667)
    assert image.size == (3000, 1000)


def test_a_dense_page_is_read_line_by_line():
    """Eighteen lines of mixed Chinese and English (bench/ai_media's page): every one is read. The angle classifier,
    when it ran on every line, turned 6 of them upside down and lost them."""
    lines = [
        f"{i + 1:02d}. 订单 Order 2026-{4000 + i} 状态 Status: 已发货 shipped 退款 Refund ¥{12 * i + 30}.00"
        for i in range(18)
    ]
    page = media.text_image(lines, size=(1240, 1500), font_size=30, origin=(30, 30))
    result = ocr.read_image(media.png(page))
    assert len(result.lines) == 18
    for i in range(18):
        assert f"2026-{4000 + i}" in result.text


def test_an_upside_down_screen_is_turned_and_read(monkeypatch):
    image = media.text_image(["ERROR E-2047", "Model: PD-X300", "打印头过热"]).rotate(180)
    result = ocr.read_image(image)
    assert "ERROR E-2047" in result.text and "PD-X300" in result.text and "打印头过热" in result.text
    # without the second look at doubtful lines, nothing upside down would be read
    monkeypatch.setattr(ocr, "RETRY_TURNED_BELOW", 0.0)
    assert "E-2047" not in ocr.read_image(image).text


def test_one_or_two_recognition_workers_read_the_same(monkeypatch):
    image = media.text_image(["退款申请 Refund request", "订单号 Order: 2026-0415", "客服电话 400-800-1234"])
    monkeypatch.setattr(ocr, "WORKERS", 1)
    alone = ocr.read_image(image)
    monkeypatch.setattr(ocr, "WORKERS", 2)
    together = ocr.read_image(image)
    assert alone.text == together.text and alone.boxes == together.boxes
    assert "2026-0415" in alone.text
