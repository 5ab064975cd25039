"""tools/eval_candidates.py's summary, on made-up rows: the replayed selection and the figures it reports."""

import importlib.util

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("eval_candidates", ROOT / "tools" / "eval_candidates.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _row(family, identity, automatic, bold, gentle, bold_gentle_diff=5.0):
    return {"family": family, "scores": {"identity": identity, "automatic": automatic, "bold": bold, "gentle": gentle},
            "diffs": {"automatic|bold": 4.0, "automatic|gentle": 1.0, "bold|gentle": bold_gentle_diff}}


def test_summary_replays_the_selection_and_sums_candidate_1s_excess(tool):
    rows = [_row("color", 5.0, 6.5, 7.0, 5.2),      # reading 1 worse by 1.5; gentle is a near-duplicate of it
            _row("creative", 10.0, 10.5, 8.0, 9.0),  # reading 1 worse by 0.5; bold is the best
            _row("creative", 10.0, 9.0, 12.0, 9.5)]  # reading 1 better
    s = tool.summarise(rows, 3, ("bold", "gentle"), 2.0)
    assert s["all"]["candidate 1 worse than nothing"] == 2
    assert s["all"]["candidate 1 worst excess"] == pytest.approx(1.5)
    assert s["all"]["candidate 1 excess sum"] == pytest.approx(2.0)
    assert s["all"]["mean candidates"] == pytest.approx(2.0)  # gentle within 2 dE00 of reading 1 every time
    assert s["all"]["best of 3"] == pytest.approx((6.5 + 8.0 + 9.0) / 3)
    assert s["all"]["best worse than nothing"] == 1
    assert s["creative"]["candidate 1 excess sum"] == pytest.approx(0.5)
    assert "| all | 3 |" in tool.table(s, 3) and "2 / +1.50 / 2.0" in tool.table(s, 3)


def test_summary_counts_the_offered_readings_that_wreck_the_picture(tool):
    rows = [_row("color", 5.0, 6.0, 25.0, 5.5),   # bold 20 worse than doing nothing: offered, counted
            _row("color", 5.0, 6.0, 30.0, 5.5)]
    assert tool.summarise(rows, 2, ("bold", "gentle"), 2.0)["all"]["readings over +15"] == 2
    assert tool.summarise(rows, 1, ("bold", "gentle"), 2.0)["all"]["readings over +15"] == 0  # bold not offered
    assert tool.table(tool.summarise(rows, 2, ("bold", "gentle"), 2.0), 2).splitlines()[2].endswith("| 2 |")
