"""The hostile corpus (tests/data/hostile/*.yaml, and a huge file made here): `wasm-compat
validate` on each, in-process. `bad_*` files exit 2 with one-line errors naming the file and
line, `ok_*` files (valid, hostile in content) exit 0; none gives a traceback, none creates
anything outside the test's own temp dir."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.scenario.loader import MAX_BYTES

CORPUS = Path(__file__).resolve().parents[2] / "data" / "hostile"
FILES = sorted(CORPUS.glob("*.yaml"))


def entries(folder: Path) -> set[str]:
    return set(os.listdir(folder))


def test_the_corpus_is_refused_line_by_line_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = tmp_path / "bad_huge.yaml"
    huge.write_text("steps: [restart]\n" + "# padding\n" * (MAX_BYTES // 10 + 1))
    files = [*FILES, huge]
    assert len(FILES) >= 60
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    private_tmp = tmp_path / "tmp"  # what validate puts in a temp dir lands here, watched too
    private_tmp.mkdir()
    system_tmp = Path(tempfile.gettempdir())
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    watched = [CORPUS, CORPUS.parent, system_tmp, private_tmp, Path.cwd()]
    before = {folder: entries(folder) for folder in watched}
    figures = {"files": 0, "one-line errors": 0, "tracebacks": 0, "paths created outside": 0}
    problems = []
    for path in files:
        code = main(["validate", str(path)])
        out, err = capsys.readouterr()
        figures["files"] += 1
        if "Traceback" in out + err or code == 3:
            figures["tracebacks"] += 1
        expected = 0 if path.name.startswith("ok_") else 2
        errors = [ln for ln in (out + err).splitlines() if path.name in ln]
        if code != expected:
            problems.append(f"{path.name}: exit {code}, expected {expected}: {out}{err}")
        if expected == 2:
            # exactly one error, on one line, with the file and its line
            # a file too large to read has no line to name
            where = r"(:\d+)?" if path == huge else r":\d+"
            if len(errors) != 1 or not re.search(re.escape(path.name) + where + r": \S", errors[0]):
                problems.append(f"{path.name}: not one line with file and line: {errors}")
            else:
                figures["one-line errors"] += 1
    after = {folder: entries(folder) for folder in watched}
    created = {str(f): sorted(after[f] - before[f]) for f in watched if after[f] - before[f]}
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # other xdist workers share /tmp (runs, bisect, interpreter installs make their dirs
        # there); our process's temp files go to the private TMPDIR, which stays watched
        created.pop(str(system_tmp), None)
    created = {k: v for k, v in created.items() if v}
    figures["paths created outside"] = sum(len(v) for v in created.values())
    print(f"hostile corpus: {figures}")
    assert problems == []
    assert figures["tracebacks"] == 0
    assert created == {}
    assert figures["one-line errors"] == sum(1 for f in files if not f.name.startswith("ok_"))
