"""compat.html in a real browser: Debian's headless Chromium driven by Playwright, from file://.

Never `playwright install`: the test uses /usr/bin/chromium and skips without it. Screenshots
go to reports/screenshots/ (artifacts, not committed).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "report" / "compat.json"
SHOTS = ROOT / "reports" / "screenshots"
COPIES = Path("/tmp/report-shots")
PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'

BREAK_SCENARIO = "deserialize_truncated"
BEFORE, AFTER = "wasmer-1.0.0-jit-cranelift", "wasmer-1.1.0-universal-cranelift"

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    pytest.skip("playwright is not installed (pip install playwright)", allow_module_level=True)
if not CHROMIUM.exists():  # pragma: no cover - depends on the machine
    pytest.skip(f"{CHROMIUM} does not exist (apt-get install chromium)", allow_module_level=True)

from harness.report import html  # noqa: E402


def planted() -> dict[str, Any]:
    """The golden run with a script payload in a runtime's message, in the stderr tail of the
    break's step, and in an unusable runtime's reason."""
    document: dict[str, Any] = json.loads(GOLDEN.read_text())
    for run in document["runs"]:
        if run["scenario"] == BREAK_SCENARIO and run.get("runtime") == AFTER:
            step = next(s for s in run["steps"] if s["outcome"] == "crash")
            step["stderr_tail"] += "\n" + PAYLOAD
            step["known"] = "a known runtime bug " + PAYLOAD
        if run["scenario"] == BREAK_SCENARIO and run.get("runtime") == BEFORE:
            step = next(s for s in run["steps"] if s["outcome"] == "error")
            step["message"] += " " + PAYLOAD
    for t in document["transitions"] + document["verdict"]["new_breaks"]:
        if t["scenario"] == BREAK_SCENARIO and (t["from"], t["to"]) == (BEFORE, AFTER):
            t["before"]["message"] += " " + PAYLOAD  # rendered by the template, not the script
    document["runtimes"][-1]["reason"] += " " + PAYLOAD
    return document


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "compat.html"
    path.write_text(html.render(planted()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


class Watched:
    """A page with what it logged and fetched."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))


def open_report(browser: Browser, report: Path, width: int = 1366, height: int = 768) -> Watched:
    watched = Watched(browser.new_page(viewport={"width": width, "height": height}))
    watched.page.goto(report.as_uri())
    watched.page.wait_for_selector("html[data-ready]")
    return watched


@pytest.fixture
def watched(browser: Browser, report: Path) -> Iterator[Watched]:
    opened = open_report(browser, report)
    yield opened
    opened.page.close()


def break_cell(page: Page) -> Any:
    return page.locator(f'#matrix-table button.cell[aria-label^="{BREAK_SCENARIO} on {AFTER}:"]')


def visible_rows(page: Page) -> int:
    return int(page.locator("#matrix-table tr.row:not([hidden])").count())


def test_loads_without_errors_or_network(watched: Watched) -> None:
    assert watched.errors == []
    assert watched.requests, "the page itself is a request"
    assert all(url.startswith(("file:", "data:")) for url in watched.requests), watched.requests
    assert watched.page.evaluate("window.__compatRenderMs") > 0


def test_breaks_list_shows_the_release_break(watched: Watched) -> None:
    card = watched.page.locator("#breaks li.chg.k-break:not(.upgrade)")
    assert card.count() == 1
    text = card.inner_text()
    assert BREAK_SCENARIO in text and BEFORE in text and "NEW" in text
    assert "crash SIGSEGV" in text and "worker killed by SIGSEGV" in text
    assert f"--runtime {BEFORE} --runtime {AFTER}" in text
    assert watched.page.locator("#breaks li.chg.k-break").count() == 9


def test_matrix_cell_opens_the_drill_down(watched: Watched) -> None:
    page = watched.page
    cell = break_cell(page)
    assert cell.count() == 1
    assert "t-break" in (cell.locator("xpath=..").get_attribute("class") or "")
    assert f"break since {BEFORE}" in (cell.get_attribute("aria-label") or "")
    cell.click()
    panel = page.locator("#panel")
    assert panel.is_visible()
    text = panel.inner_text()
    assert f"On {AFTER}" in text
    assert "worker killed by SIGSEGV" in text
    assert "expected error, got crash (SIGSEGV)" in text
    assert "Fatal Python error: Segmentation fault" in text  # the stderr tail
    assert "stated in the scenario: a known runtime bug " + PAYLOAD in text
    assert panel.locator("dd", has_text="SIGSEGV").count() >= 1  # the signal, as a fact
    assert "scenarios/deserialize_truncated.yaml" in text
    assert "break since " + BEFORE in text
    # the Scenario section holds its file's path as an element, never an array's string
    scenario = panel.locator("h3", has_text="Scenario").locator("xpath=following-sibling::*[1]")
    assert scenario.inner_text() == "scenarios/deserialize_truncated.yaml"
    assert "[object " not in text
    page.keyboard.press("Escape")
    assert not panel.is_visible()
    assert watched.errors == []


def test_payloads_are_shown_as_text(watched: Watched) -> None:
    page = watched.page
    break_cell(page).click()
    assert PAYLOAD in page.locator("#panel pre.tail").inner_text()
    page.locator("#panel button.linkbtn", has_text=f"Open {BEFORE}").click()
    assert PAYLOAD in page.locator("#panel pre.msg").first.inner_text()
    card = page.locator("#breaks li.chg.k-break:not(.upgrade)")
    assert PAYLOAD in card.inner_text()  # escaped by the template
    assert PAYLOAD in page.locator(".problems").inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("img").count() == 0
    assert watched.errors == []


def test_changed_rows_only(watched: Watched) -> None:
    page = watched.page
    document = planted()
    cases = {(r["scenario"], r["params_id"]) for r in document["runs"]}
    changed = {(t["scenario"], t["params"]) for t in document["transitions"] if t["kind"] != "same"}
    assert visible_rows(page) == len(cases)
    page.locator("#changed-only").check()
    assert visible_rows(page) == len(changed) < len(cases)
    assert page.locator("#shown").inner_text() == f"{len(changed)} of {len(cases)} rows"
    page.locator("#changed-only").uncheck()
    assert visible_rows(page) == len(cases)


def test_search(watched: Watched) -> None:
    page = watched.page
    total = visible_rows(page)

    def search(text: str) -> list[str]:
        page.locator("#q").fill(text)
        page.wait_for_selector(f"#shown[data-query={json.dumps(text)}]", state="attached")
        return page.locator("#matrix-table tr.row:not([hidden]) th.case").all_inner_texts()

    assert [r.replace("\n", "") for r in search("feature=gc")] == ["featuresfeature=gc1 drift"]
    # a word of a runtime's message (the crash's signal), not of a scenario's name
    assert [r.split("\n")[0] for r in search("sigsegv")] == [BREAK_SCENARIO]
    assert len(search("traps out of bounds")) == 2  # every word, anywhere in the row
    assert len(search("")) == total


def test_keyboard(watched: Watched) -> None:
    page = watched.page
    first = page.locator('#matrix-table button.cell[tabindex="0"]')
    assert first.count() == 1
    first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert " on wasmtime-3.0.0" in focused
    page.keyboard.press("Enter")
    assert page.locator("#panel").is_visible()
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == focused


def test_upgrade_heatmap(watched: Watched) -> None:
    page = watched.page
    block = page.locator(".hm-block", has_text="wasmtime")
    assert block.locator("button.cell").count() == 9
    assert block.locator("button.cell.ctl").count() == 3
    assert block.locator("td.t-break").count() == 6
    block.locator(
        'button.cell[aria-label*="produced with wasmtime-50.0.1, consumed with wasmtime-3.0.0"]'
    ).click()
    text = page.locator("#panel").inner_text()
    assert "Produced with wasmtime-50.0.1, restarted, consumed with wasmtime-3.0.0" in text
    assert "Module was compiled with incompatible Wasmtime version '50'" in text


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_screenshots(browser: Browser, report: Path, width: int, height: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    opened = open_report(browser, report, width, height)
    page = opened.page
    try:
        shots = [SHOTS / f"compat-{width}-full.png", SHOTS / f"compat-{width}-matrix.png"]
        page.screenshot(path=str(shots[0]), full_page=True)
        page.locator("#matrix").scroll_into_view_if_needed()
        page.evaluate("document.getElementById('matrix').scrollIntoView()")
        page.screenshot(path=str(shots[1]))
        break_cell(page).click()
        assert page.locator("#panel").is_visible()
        if width >= 1000:  # the page makes room for the panel: show the matrix beside it
            page.evaluate("document.getElementById('matrix').scrollIntoView()")
        box = page.locator("#panel").bounding_box()
        assert box is not None
        if width < 640:
            assert box["width"] == width  # the panel takes the whole phone screen
        shots.append(SHOTS / f"compat-{width}-panel.png")
        page.screenshot(path=str(shots[-1]))
        assert opened.errors == []
        COPIES.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, COPIES / shot.name)
    finally:
        page.close()


def test_a_link_opens_its_run(browser: Browser, report: Path) -> None:
    document = planted()
    index = next(
        i
        for i, r in enumerate(document["runs"])
        if r["scenario"] == BREAK_SCENARIO and r.get("runtime") == AFTER
    )
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(f"{report.as_uri()}#run-{index}")
        page.wait_for_selector("html[data-ready]")
        assert page.locator("#panel").is_visible()
        assert f"On {AFTER}" in page.locator("#panel").inner_text()
    finally:
        page.close()


def test_the_heatmap_marks_changes_along_a_producers_consumers(
    browser: Browser, tmp_path: Path
) -> None:
    from harness.analysis import diff

    document: dict[str, Any] = json.loads(GOLDEN.read_text())
    document["transitions"] = diff.transitions(document["runs"], document["runtimes"])
    path = tmp_path / "compat.html"
    path.write_text(html.render(document), encoding="utf-8")
    opened = open_report(browser, path)
    block = opened.page.locator(".hm-block", has_text="wasmtime")
    # 50.0.1's artifact: 0.20.0 and 3.0.0 refuse it with other messages (the consumer axis)
    cell = block.locator("td.ax-c-drift button.cell", has_text="")
    labels = [cell.nth(i).get_attribute("aria-label") or "" for i in range(cell.count())]
    assert any(
        "produced with wasmtime-50.0.1, consumed with wasmtime-3.0.0" in label
        and "against wasmtime-50.0.1 ⇒ wasmtime-0.20.0 (consumer axis)" in label
        for label in labels
    ), labels
    assert block.locator("td.ax-p-drift").count() == 2
    assert "change(s) along a producer's consumers" in block.inner_text()
    assert opened.errors == []
    opened.page.close()
