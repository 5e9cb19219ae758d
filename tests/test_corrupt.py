from __future__ import annotations

import struct

import pytest

from harness.worker.corrupt import CorruptError, apply, code_section


def tiny_elf(text: bytes) -> bytes:
    """An ELF64 file with a null section, .text and .shstrtab."""
    names = b"\x00.text\x00.shstrtab\x00"
    body_offset = 64
    text_offset = body_offset
    names_offset = text_offset + len(text)
    shoff = names_offset + len(names)
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x28, shoff)
    struct.pack_into("<HHH", header, 0x3A, 64, 3, 2)
    sections = bytes(64)
    sections += struct.pack("<IIQQQQ", 1, 1, 6, 0, text_offset, len(text)) + bytes(24)
    sections += struct.pack("<IIQQQQ", 7, 3, 0, 0, names_offset, len(names)) + bytes(24)
    return bytes(header) + text + names + sections


def test_flip_in_code_counts_from_text_section() -> None:
    data = tiny_elf(b"\x55\x48\x89\xe5")
    assert code_section(data) == (64, 4)
    out = apply(data, {"flip": [1], "in": "code"})
    assert out[65] == 0x48 ^ 0xFF and out[:65] == data[:65] and out[66:] == data[66:]


def test_truncate_empty_and_file_flips() -> None:
    data = bytes(range(10))
    assert apply(data, {"truncate": 4}) == bytes(range(4))
    assert apply(data, {"truncate": -3}) == bytes(range(7))
    assert apply(data, {"empty": True}) == b""
    assert apply(data, {"flip": [0]})[0] == 0xFF


def test_bad_requests_are_errors_not_crashes() -> None:
    with pytest.raises(CorruptError, match="not an ELF"):
        apply(b"\x00asm\x01\x00\x00\x00", {"flip": [0], "in": "code"})
    with pytest.raises(CorruptError, match="past the end"):
        apply(b"abc", {"flip": [3]})
