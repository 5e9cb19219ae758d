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


def elf_with_symbols(text: bytes, addr: int, symbols: list[tuple[str, int]]) -> bytes:
    """An ELF64 file whose .text sits at `addr`, with FUNC symbols in .symtab/.strtab."""
    names = b"\x00.text\x00.shstrtab\x00.symtab\x00.strtab\x00"
    strtab = b"\x00" + b"".join(n.encode() + b"\x00" for n, _ in symbols)
    symtab, at = bytes(24), 1
    for name, value in symbols:
        symtab += struct.pack("<IBBHQQ", at, 0x12, 0, 1, value, 4)  # GLOBAL FUNC in section 1
        at += len(name) + 1
    text_offset = 64
    names_offset = text_offset + len(text)
    symtab_offset = names_offset + len(names)
    strtab_offset = symtab_offset + len(symtab)
    shoff = strtab_offset + len(strtab)
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x28, shoff)
    struct.pack_into("<HHH", header, 0x3A, 64, 5, 2)

    def section(name: int, kind: int, addr: int, offset: int, size: int, link: int = 0) -> bytes:
        return struct.pack("<IIQQQQII", name, kind, 0, addr, offset, size, link, 0) + bytes(16)

    sections = bytes(64)
    sections += section(1, 1, addr, text_offset, len(text))
    sections += section(7, 3, 0, names_offset, len(names))
    sections += section(17, 2, 0, symtab_offset, len(symtab), link=4)
    sections += section(25, 3, 0, strtab_offset, len(strtab))
    return bytes(header) + text + names + symtab + strtab + sections


def test_flip_in_code_starts_at_the_first_wasm_function() -> None:
    # wasmer 1.0 native-cranelift puts other code before its first function in .text
    data = elf_with_symbols(
        bytes(range(16)),
        0x1000,
        [("wasmer_trampoline_function_call__0", 0x1004), ("wasmer_function__0", 0x1008)],
    )
    assert code_section(data) == (64 + 8, 8)
    out = apply(data, {"flip": [0], "in": "code"})
    assert out[72] == 8 ^ 0xFF and out[:72] == data[:72]


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
