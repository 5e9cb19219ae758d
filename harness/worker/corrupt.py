"""Corrupt artifact bytes the way a scenario asks: truncate, empty, flip bytes.

Offsets of a flip count from the start of the file, or, with `in: code`, from the start of the
artifact's machine code: wasmtime artifacts are ELF files and their code is the `.text` section.
"""

from __future__ import annotations

import struct
from typing import Any


class CorruptError(Exception):
    """The corruption cannot be applied to these bytes (e.g. no code section)."""


def apply(data: bytes, spec: dict[str, Any] | None) -> bytes:
    if not spec:
        return data
    if spec.get("empty"):
        return b""
    out = bytearray(data)
    flips = spec.get("flip") or []
    if flips:
        base, size = (0, len(out))
        if spec.get("in") == "code":
            base, size = code_section(bytes(out))
        for offset in flips:
            if offset >= size:
                raise CorruptError(f"flip offset {offset} is past the end ({size} bytes)")
            out[base + offset] ^= 0xFF
    if "truncate" in spec:
        keep = spec["truncate"]
        out = out[:keep] if keep >= 0 else out[: max(0, len(out) + keep)]
    return bytes(out)


def code_section(data: bytes) -> tuple[int, int]:
    """(file offset, size) of the `.text` section of a 64-bit little-endian ELF file."""
    sections = elf_sections(data)
    if ".text" not in sections:
        raise CorruptError(
            "artifact has no .text section (sections: {})".format(", ".join(sections))
        )
    return sections[".text"]


def elf_sections(data: bytes) -> dict[str, tuple[int, int]]:
    if data[:4] != b"\x7fELF" or len(data) < 64:
        raise CorruptError("artifact is not an ELF file")
    if data[4] != 2 or data[5] != 1:
        raise CorruptError("artifact is not a 64-bit little-endian ELF file")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if shentsize < 64 or shoff + shnum * shentsize > len(data) or shstrndx >= shnum:
        raise CorruptError("artifact has a damaged ELF section table")
    headers = []
    for i in range(shnum):
        name, _type, _flags, _addr, offset, size = struct.unpack_from(
            "<IIQQQQ", data, shoff + i * shentsize
        )
        headers.append((name, offset, size))
    strtab_offset, strtab_size = headers[shstrndx][1], headers[shstrndx][2]
    strtab = data[strtab_offset : strtab_offset + strtab_size]
    out = {}
    for name, offset, size in headers:
        end = strtab.find(b"\x00", name)
        label = strtab[name : end if end >= 0 else None].decode("ascii", "replace")
        if label:
            out[label] = (offset, size)
    return out
