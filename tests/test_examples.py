"""Every script in examples/ runs, prints what it shows and saves its figure.

The scripts are found by glob, so a new example is covered without touching
this file. They run as subprocesses with a headless matplotlib backend, each
writing its figures into its own temporary folder (SK_GDLOGREG_FIGURES), never
into the repository. They are all started at once and then awaited one test at
a time, so the suite takes about as long as the slowest few, not their sum.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMEOUT = 300  # seconds per script, generous for a busy machine


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """Launch every example; yield {path: (process, figures folder, log files)}."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    runs = {}
    for script in EXAMPLES:
        work = tmp_path_factory.mktemp(script.stem)
        figures = work / "figures"
        out, err = open(work / "stdout.txt", "w+"), open(work / "stderr.txt", "w+")
        process = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=work,
            env=dict(env, SK_GDLOGREG_FIGURES=str(figures)),
            stdout=out,
            stderr=err,
            text=True,
        )
        runs[script] = (process, figures, out, err)
    yield runs
    for process, _, out, err in runs.values():
        if process.poll() is None:
            process.kill()
            process.wait()
        out.close()
        err.close()


def test_there_are_examples():
    names = {script.name for script in EXAMPLES}
    assert {
        "plot_cost_curve.py",
        "plot_learning_rate_grid.py",
        "plot_loops_vs_vectorized.py",
        "plot_decision_boundary.py",
        "plot_column_transformer.py",
    } <= names


@pytest.mark.parametrize("script", EXAMPLES, ids=[script.name for script in EXAMPLES])
def test_example_runs(started, script):
    process, figures, out, err = started[script]
    try:
        returncode = process.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"{script.name} did not finish within {TIMEOUT} s")
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read(), err.read()
    assert returncode == 0, f"{script.name} failed:\n{stdout}\n{stderr}"
    assert stdout.strip(), f"{script.name} printed nothing"
    assert "Traceback" not in stderr, stderr
    if script.name.startswith("plot_"):
        pngs = sorted(figures.glob("*.png"))
        assert pngs, f"{script.name} saved no PNG into SK_GDLOGREG_FIGURES"
        for png in pngs:
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
            assert png.stat().st_size > 10_000, f"{png.name} looks empty"
