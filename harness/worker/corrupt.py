"""Corrupt artifact bytes the way a scenario asks: truncate, empty, flip bytes.

Offsets of a flip count from the start of the file, or, with `in: code`, from the start of the
artifact's machine code: wasmtime and wasmer's native/dylib artifacts are ELF files, and their
code starts at the first wasm function's symbol in `.text`.
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
    """(file offset, size) of the artifact's machine code in a 64-bit little-endian ELF file: from
    its first wasm function (the lowest function symbol in `.text` that is not a trampoline; some
    engines put other code first) to the end of `.text`."""
    sections = elf_sections(data)
    if ".text" not in sections:
        raise CorruptError(
            "artifact has no .text section (sections: {})".format(", ".join(sections))
        )
    text = sections[".text"]
    starts = [
        value - text.addr
        for name, value in function_symbols(data, sections)
        if "trampoline" not in name and text.addr <= value < text.addr + text.size
    ]
    skip = min(starts) if starts else 0
    return text.offset + skip, text.size - skip


class Section:
    def __init__(self, addr: int, offset: int, size: int, link: int, index: int) -> None:
        self.addr, self.offset, self.size, self.link, self.index = addr, offset, size, link, index


def elf_sections(data: bytes) -> dict[str, Section]:
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
        name, _type, _flags, addr, offset, size, link = struct.unpack_from(
            "<IIQQQQI", data, shoff + i * shentsize
        )
        headers.append((name, Section(addr, offset, size, link, i)))
    names = headers[shstrndx][1]
    strtab = data[names.offset : names.offset + names.size]
    out = {}
    for name, section in headers:
        end = strtab.find(b"\x00", name)
        label = strtab[name : end if end >= 0 else None].decode("ascii", "replace")
        if label:
            out[label] = section
    return out


def function_symbols(data: bytes, sections: dict[str, Section]) -> list[tuple[str, int]]:
    """(name, address) of each FUNC symbol in `.symtab`, or `.dynsym` when it is stripped."""
    table = sections.get(".symtab") or sections.get(".dynsym")
    if table is None:
        return []
    by_index = {s.index: s for s in sections.values()}
    names = by_index.get(table.link)
    if names is None or table.offset + table.size > len(data):
        return []
    strings = data[names.offset : names.offset + names.size]
    found = []
    for at in range(table.offset, table.offset + table.size - 23, 24):
        name, info, _other, _shndx, value, _size = struct.unpack_from("<IBBHQQ", data, at)
        if info & 0xF == 2:  # STT_FUNC
            end = strings.find(b"\x00", name)
            found.append(
                (strings[name : end if end >= 0 else None].decode("ascii", "replace"), value)
            )
    return found
