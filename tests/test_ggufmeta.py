"""The GGUF header reader against the real test models and hand-made files."""

from __future__ import annotations

import pytest

from localchat.errors import ModelFileError
from localchat.gguffile import check_complete, read_header
from localchat.ggufmeta import (
    NeedMoreData,
    parse_header,
    quant_label_from_filename,
    read_header_with,
)


def test_smollm2_header(smollm2_path):
    header = check_complete(smollm2_path)
    assert header.architecture == "llama" and header.quant == "Q4_1"
    assert header.arch_value("block_count") == 30 and header.vocab_size == 49152
    assert header.expected_file_bytes == smollm2_path.stat().st_size
    assert header.chat_template and "im_start" in header.chat_template
    assert len(header.tensors) == 272


def test_gemma_header(gemma_path):
    header = check_complete(gemma_path)
    assert header.architecture == "gemma3" and header.quant == "Q4_K_M"
    assert header.vocab_size == 262144
    assert header.arch_value("attention.sliding_window") == 512
    assert header.expected_file_bytes == gemma_path.stat().st_size


def test_prefix_reading_grows_until_the_header_is_whole(gemma_path):
    data = gemma_path.read_bytes()[:16 << 20]
    with pytest.raises(NeedMoreData):
        parse_header(data[:100_000])
    asked = []

    def read_prefix(n):
        asked.append(n)
        return data[:n]

    header = read_header_with(read_prefix, "remote", first_bytes=64 << 10)
    assert header.tensors == read_header(gemma_path).tensors
    assert len(asked) > 1  # the 262k-token vocabulary does not fit in the first 64 KiB


def test_a_prefix_cut_inside_the_vocabulary_asks_for_more_than_it_has(smollm2_path):
    data = smollm2_path.read_bytes()[:4 << 20]
    whole = parse_header(data)
    # cuts inside the 49k-token vocabulary (skipped, not kept) and around its strings' lengths
    for cut in (200, 1_000, 100_000, 100_003, 500_000, 1_000_007, whole.header_bytes - 5_000):
        with pytest.raises(NeedMoreData) as more:
            parse_header(data[:cut])
        assert cut < more.value.needed <= whole.header_bytes
    assert parse_header(data[:whole.header_bytes]).tensors == whole.tensors


def test_truncated_file_says_how_much_is_missing(tmp_path, smollm2_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(smollm2_path.read_bytes()[:40_000_000])
    with pytest.raises(ModelFileError, match="truncated .98.4 MB expected, 40.0 MB on disk"):
        check_complete(cut)
    tiny = tmp_path / "tiny.gguf"
    tiny.write_bytes(smollm2_path.read_bytes()[:1000])
    with pytest.raises(ModelFileError, match="ends inside its GGUF header"):
        read_header(tiny)


def test_not_gguf(tmp_path):
    path = tmp_path / "x.gguf"
    path.write_bytes(b"PK\x03\x04 zip file")
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        read_header(path)


@pytest.mark.parametrize(("name", "label"), [
    ("Llama-3.2-3B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
    ("qwen2.5-7b-instruct-q5_k_m-00001-of-00002.gguf", "Q5_K_M"),
    ("SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1"),
    ("gemma-3-270m-it-Q8_0.gguf", "Q8_0"),
    ("Meta-Llama-3.1-8B-Instruct-IQ4_XS.gguf", "IQ4_XS"),
    ("phi-4-F16.gguf", "F16"),
    ("model-bf16.gguf", "BF16"),
    ("mystery.gguf", ""),
])
def test_quant_label_from_filename(name, label):
    assert quant_label_from_filename(name) == label
