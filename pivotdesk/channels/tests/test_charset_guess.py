"""Undeclared 8-bit text is guessed, not forced into GB18030 (issue 12: a KOI8-R subject and a Latin-1 display name
became Chinese-looking mojibake). Fixed samples per language, then a seeded random corpus per charset with a
measured accuracy; mail-level tests (headers and bodies without a charset) go through the real MIME parser."""

from __future__ import annotations

import random

import pytest

from pivotdesk.channels.domain.charset_data import COMMON_HANZI
from pivotdesk.channels.domain.charsets import GUESSES, decode_bytes, guess_decode
from pivotdesk.channels.domain.mime import parse_email

SAMPLES = [
    ("退款申请：订单号 88231 未到账", "gbk"),
    ("发票抬头开错了，需要重开", "gbk"),
    ("张伟", "gbk"),
    ("欧阳娜娜", "gbk"),
    ("打印机固件升级失败", "gbk"),
    ("退款申請：訂單未到帳", "big5"),
    ("返金のお願い", "shift_jis"),
    ("Проблема с доступом к аккаунту", "koi8-r"),
    ("Иван Петров", "koi8-r"),
    ("ООО Ромашка", "koi8-r"),
    ("Здравствуйте! Не могу войти", "cp1251"),
    ("François Müller", "latin-1"),
    ("Réclamation: facture déjà payée", "latin-1"),
    ("Größe", "latin-1"),
    ("Søren Kierkegård", "latin-1"),
    ("Müller GmbH – Rechnung Nr. 4711", "cp1252"),
    ("Zażółć gęślą jaźń", "cp1250"),
]


@pytest.mark.parametrize(("text", "charset"), SAMPLES)
def test_undeclared_text_is_read_in_its_own_charset(text, charset):
    assert decode_bytes(text.encode(charset)) == text
    assert decode_bytes(text.encode(charset), None) == text


def test_a_declared_charset_still_wins():
    data = "Привет".encode("koi8-r")
    assert decode_bytes(data, "koi8-r") == "Привет"
    assert decode_bytes("张伟".encode("gbk"), "gb2312") == "张伟"


def test_valid_utf8_is_utf8_even_when_labelled_latin1():
    assert decode_bytes("José 张伟".encode(), "iso-8859-1") == "José 张伟"


def test_never_raises_on_any_bytes():
    rng = random.Random(7)
    for _ in range(300):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        assert isinstance(guess_decode(data), str)
        assert isinstance(decode_bytes(data), str)


RUSSIAN = "оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё"
FRENCH_GERMAN = "éèàçüöäßâêîôûëïñ"


def _russian_phrase(rng: random.Random) -> str:
    words = []
    for i in range(rng.randrange(2, 6)):
        word = "".join(rng.choice(RUSSIAN) for _ in range(rng.randrange(2, 10)))
        words.append(word.capitalize() if i == 0 else word)
    return " ".join(words)


def _latin_phrase(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randrange(2, 6)):
        letters = [rng.choice("abcdefghilmnoprstuv") for _ in range(rng.randrange(3, 10))]
        letters[rng.randrange(len(letters))] = rng.choice(FRENCH_GERMAN)
        words.append("".join(letters))
    return " ".join(words).capitalize()


def _chinese_phrase(rng: random.Random) -> str:
    common = sorted(COMMON_HANZI)
    return "".join(rng.choice(common) for _ in range(rng.randrange(3, 16)))


@pytest.mark.parametrize(
    ("make", "charset"),
    [(_russian_phrase, "koi8-r"), (_russian_phrase, "cp1251"), (_latin_phrase, "latin-1"), (_chinese_phrase, "gbk")],
)
def test_accuracy_on_a_random_corpus(make, charset):
    """Random phrases (seeded) of each language: the guess is right at least 97 % of the time. Chinese texts that
    are also valid UTF-8 are left out (they are read as UTF-8, on purpose)."""
    rng = random.Random(20261206)
    right = total = 0
    for _ in range(400):
        text = make(rng)
        data = text.encode(charset)
        try:
            data.decode("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        total += 1
        right += decode_bytes(data) == text
    assert total > 300
    assert right / total >= 0.97, f"{right}/{total} right for {charset}"


def test_every_guess_is_a_real_codec():
    for codec in GUESSES:
        b"abc".decode(codec)


def _mail(subject: bytes, from_name: bytes, body: bytes) -> bytes:
    return (
        b"From: " + from_name + b" <sender@example.ru>\r\n"
        b"To: support@desk.example\r\n"
        b"Subject: " + subject + b"\r\n"
        b"Message-ID: <charset-test@example.ru>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n"
    )


def test_a_koi8r_mail_without_a_charset_is_read_as_russian():
    mail = parse_email(
        _mail(
            "Проблема с доступом".encode("koi8-r"),
            "Иван Петров".encode("koi8-r"),
            "Здравствуйте, не могу войти в личный кабинет.".encode("koi8-r"),
        )
    )
    assert mail.subject == "Проблема с доступом"
    assert "Иван Петров" in (mail.sender.name if mail.sender else "")
    assert "не могу войти" in mail.text


def test_a_latin1_display_name_without_a_charset_is_read_as_latin1():
    mail = parse_email(
        _mail(b"Invoice question", "François Müller".encode("latin-1"), "Grüße aus Köln".encode("latin-1"))
    )
    assert "François Müller" in (mail.sender.name if mail.sender else "")
    assert "Grüße aus Köln" in mail.text


def test_a_gbk_mail_without_a_charset_is_still_chinese():
    mail = parse_email(
        _mail("发票抬头开错了".encode("gbk"), "张伟".encode("gbk"), "请帮忙重开一张发票，谢谢！".encode("gbk"))
    )
    assert mail.subject == "发票抬头开错了"
    assert "张伟" in (mail.sender.name if mail.sender else "")
    assert "重开一张发票" in mail.text
