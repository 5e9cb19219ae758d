"""A call with another store (`call: {export: f, store: s2}`): what a call step is sent, and
the one line a store that is not there gets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.model import cases

TWO_STORES = """\
steps:
  - compile: add
  - instantiate: {store: s}
  - instantiate: {as: other, store: s2}
"""


def call_args(folder: Path, text: str) -> list[dict[str, object]]:
    path = folder / "s.yaml"
    path.write_text(text)
    (case,) = cases(load_scenario(path))
    return [step.args for step in case.segments[-1] if step.op == "call"]


def test_a_call_passes_the_instances_store_unless_it_names_another(scenario_dir: Path) -> None:
    own, other = call_args(
        scenario_dir,
        TWO_STORES + "  - call: {export: add}\n  - call: {export: add, store: s2}\n",
    )
    assert own["store"] is None and own["instance"] == "i"
    assert other["store"] == "s2" and other["instance"] == "i"


def test_the_store_may_come_from_a_parameter(scenario_dir: Path) -> None:
    text = "params: [{st: s2}]\n" + TWO_STORES + '  - call: {export: add, store: "${st}"}\n'
    (args,) = call_args(scenario_dir, text)
    assert args["store"] == "s2"


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            "  - call: {export: add, store: s3}\n",
            "s.yaml:5: step 4 (call): store 's3' is not defined in this segment",
        ),
        (
            "  - restart\n  - compile: add\n  - instantiate\n  - call: {export: add, store: s2}\n",
            "s.yaml:8: step 7 (call): store 's2' is not defined in this segment; it was made at "
            "line 4, before a restart",
        ),
    ],
)
def test_a_store_the_segment_has_not_made_is_refused(
    scenario_dir: Path, steps: str, message: str
) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        call_args(scenario_dir, TWO_STORES + steps)
