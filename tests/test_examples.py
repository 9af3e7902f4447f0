"""Every script in examples/ runs, prints what it shows and saves its figure.

The scripts are found by glob, and each must have an entry in EXPECTED below:
lines its output must contain (regular expressions, some with a number checked
against a bound) and the figures it must save. They run as subprocesses with a
headless matplotlib backend, each writing its figures into its own temporary
folder (SK_GDLOGREG_FIGURES), never into the repository; one more run of one
plot script without SK_GDLOGREG_FIGURES, from the repository root as a reader
would run it, writes into its default folder, which git ignores. Running the
examples must leave ``git status`` of the repository as it was. They are all
started at once and then awaited one test at a time, so the suite takes about
as long as the slowest few, not their sum.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMEOUT = 300  # seconds per script, generous for a busy machine
DEFAULT_RUN = "plot_gradient_descent_path.py"  # also run without SK_GDLOGREG_FIGURES
HAS_DASK = importlib.util.find_spec("distributed") is not None
HAS_TORCH = importlib.util.find_spec("torch") is not None
NUMBER = r"([-+0-9.e]+)"

# script: (regular expressions its output must match, figures it must save);
# a pattern paired with a bound, (pattern, bound), also checks the number its
# group captures: |number| <= bound, or low <= number <= high for a pair
# (low, high).
INF = float("inf")
EXPECTED = {
    "quickstart.py": (
        [r"cost J: 0\.6931 at the start -> 0\.0\d+ at the end", r"test accuracy: 0\.9\d\d"],
        [],
    ),
    "plot_cost_curve.py": (
        [r"J at iteration 0: 0\.6931", (rf"J at the end: +\S+ +\(J - J\* = {NUMBER}\)", 1e-4)],
        ["plot_cost_curve.png"],
    ),
    "plot_column_transformer.py": (
        [r"classes_: \['no', 'yes'\]", r"onehot__contract_monthly +0\.\d+",
         (rf"predicted probability {NUMBER}", 1e-2)],
        ["plot_column_transformer.png"],
    ),
    "plot_decision_boundary.py": (
        [r"3 blobs.*coef_ shape \(3, 2\)", r"degree 3: coef_ shape \(1, 10\).*test accuracy 0\.9"],
        ["plot_decision_boundary.png"],
    ),
    # each time the best of k runs, k printed per row (many for small m, few for
    # large); the times themselves are not asserted: tests are not benchmarks
    "plot_loops_vs_vectorized.py": (
        [r"n = 2 features, 5 iterations; fit time in ms, each the best of k runs",
         r"n = 100 features, 5 iterations; fit time in ms, each the best of k runs",
         r"\n +m +k +full +examples +vectorized",
         r"\n +100 +15 +\S+ +\S+ +\S+ +\d+x +\d+x\n",
         r"\n +3000 +3 +\S+ +\S+ +\S+ +\d+x +\d+x\n"],
        ["plot_loops_vs_vectorized.png"],
    ),
    "plot_learning_rate_grid.py": (
        [r"J falls at every step", r"J went up \(warned\)", r"\n +100 +\S+ +\S+ +diverges",
         r"largest alpha with which J never went up: \S+",
         r"learning_rate='auto' is at J\* to rounding error"],
        ["plot_learning_rate_grid.png"],
    ),
    "callbacks_monitoring.py": (
        [r"(\d+) iterations of the lecture's loops; the monitor logged \1\n",
         r"accuracy: 0\.9\d\d -> 0\.9\d\d, final from iteration \d+ on"],
        ["callbacks_monitoring.png"],
    ),
    "plot_l1_sparsity.py": (
        [r"\n +0\.001 +0 +0\.\d+\n",  # the strongest penalty: every coefficient exactly 0
         r"\n +100 +(2\d|30) +0\.9\d\d\n", r"the first features in as C grows: \w"],
        ["plot_l1_sparsity.png"],
    ),
    # the path shrinks the coefficients towards 0 as C falls; C_ is inside the
    # grid; the warm-started path takes fewer passes than refitting each C
    "plot_cv_path.py": (
        [r"30 standardized features, 11 values of C, 5 folds",
         (rf"\n +0\.001 +{NUMBER} +-0\.\d+ +0\.\d+\n", (0, 0.5)),
         (rf"\n +100 +{NUMBER} +-0\.\d+ +0\.\d+\n", (5, INF)),
         r"\n +1 +\S+ +-0\.0\d+ +0\.\d+  <- C_\n",
         (rf"chosen C_ = {NUMBER}: score -0\.0\d+ \+- 0\.\d+ over the folds", (0.1, 10)),
         (rf"\d+ warm-started, \d+ refitting each C from zero \({NUMBER}x\)", (0, 0.9))],
        ["plot_cv_path.png"],
    ),
    "plot_dask_cluster.py": (
        [r"LocalCluster: 2 workers x 1 thread", (rf"coefficient difference {NUMBER}", 1e-10),
         r"predict\(X\) is lazy: a dask\.array\.\S+ in 4 chunks",
         r"accuracy, computed on the workers: 0\.\d+"],
        ["plot_dask_cluster.png"],
    )
    if HAS_DASK
    else ([r"Dask is not installed: skipped"], []),
    "plot_array_api_torch.py": (
        [r"coef_: torch\.Tensor, torch\.float32", r"predict_proba\(X\): Tensor",
         (rf"difference in a coefficient {NUMBER}", 1e-4)],
        ["plot_array_api_torch.png"],
    )
    if HAS_TORCH
    else ([r"PyTorch is not installed: skipped"], []),
    # J - J* (a gap in the cost) and ||w - w*|| (a distance in the coefficients)
    # are printed apart; "within 0.01 of w*" must agree with the distance printed
    "plot_gradient_descent_path.py": (
        [(rf"learning_rate=0\.3 \(small\): after 30 steps J - J\* = {NUMBER}, ", (1e-3, 1)),
         (rf"learning_rate=0\.3 \(small\): .*\|\|w - w\*\|\| = {NUMBER}, not within 0\.01 of w\*",
          (0.01, INF)),
         (rf"learning_rate=1\.5 \(large\): after 30 steps J - J\* = {NUMBER}, ", (1e-6, 1e-2)),
         (rf"learning_rate=1\.5 \(large\): .*\|\|w - w\*\|\| = {NUMBER}, not within 0\.01 of w\*",
          (0.01, INF)),
         (rf'learning_rate="auto": after 30 steps J - J\* = {NUMBER}, ', 1e-12),
         (rf'learning_rate="auto": .*\|\|w - w\*\|\| = {NUMBER}, within 0\.01 of w\* from step \d+',
          (0, 0.01))],
        ["plot_gradient_descent_path.png"],
    ),
}  # fmt: skip


def _git_status():
    """``git status --porcelain`` of the repository, or None outside a git checkout."""
    if shutil.which("git") is None:
        return None
    result = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not (ROOT / ".git").exists():
        return None
    return result.stdout


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """Launch every example; yield {name: (process, figures folder, log files)}."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("SK_GDLOGREG_FIGURES", None)
    runs = {"git status before": _git_status(), "start": time.time()}
    jobs = [(script.name, script, True) for script in EXAMPLES]
    jobs.append((f"default {DEFAULT_RUN}", ROOT / "examples" / DEFAULT_RUN, False))
    for name, script, own_folder in jobs:
        work = tmp_path_factory.mktemp(script.stem)
        figures = work / "figures" if own_folder else ROOT / "examples" / "figures"
        job_env = dict(env, SK_GDLOGREG_FIGURES=str(figures)) if own_folder else env
        out, err = open(work / "stdout.txt", "w+"), open(work / "stderr.txt", "w+")
        process = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=work if own_folder else ROOT,
            env=job_env,
            stdout=out,
            stderr=err,
            text=True,
        )
        runs[name] = (process, figures, out, err)
    yield runs
    for name, _, _ in jobs:
        process, _, out, err = runs[name]
        if process.poll() is None:
            process.kill()
            process.wait()
        out.close()
        err.close()


def _finished(started, name):
    """Wait for one run; return its stdout after checking that it succeeded."""
    process, _, out, err = started[name]
    try:
        returncode = process.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"{name} did not finish within {TIMEOUT} s")
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read(), err.read()
    assert returncode == 0, f"{name} failed:\n{stdout}\n{stderr}"
    assert "Traceback" not in stderr, stderr
    return stdout


def test_there_are_examples():
    names = {script.name for script in EXAMPLES}
    assert names == set(EXPECTED), "every example needs an entry in EXPECTED, and only those"


def test_examples_are_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [script.name for script in EXAMPLES if f"`{script.name}`" not in readme]
    assert not missing, f"not in the README's Examples table: {missing}"


@pytest.mark.parametrize("script", EXAMPLES, ids=[script.name for script in EXAMPLES])
def test_example_runs(started, script):
    stdout = _finished(started, script.name)
    patterns, expected_figures = EXPECTED[script.name]
    for pattern in patterns:
        pattern, bound = pattern if isinstance(pattern, tuple) else (pattern, None)
        match = re.search(pattern, stdout)
        assert match, f"{script.name} did not print {pattern!r}:\n{stdout}"
        if isinstance(bound, tuple):
            low, high = bound
            assert low <= float(match.group(1)) <= high, (match.group(0), bound)
        elif bound is not None:
            assert abs(float(match.group(1))) <= bound, (match.group(0), bound)
    figures = started[script.name][1]
    saved = sorted(png.name for png in figures.glob("*.png"))
    assert saved == sorted(expected_figures), f"{script.name} saved {saved}"
    for name in saved:
        png = figures / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert png.stat().st_size > 10_000, f"{png.name} looks empty"


def test_default_figures_folder_is_ignored_and_the_tree_stays_clean(started):
    """Without SK_GDLOGREG_FIGURES the figure goes to examples/figures/, which git ignores;
    no example run changes what git sees (tracked files, untracked files)."""
    stdout = _finished(started, f"default {DEFAULT_RUN}")
    figure = ROOT / "examples" / "figures" / DEFAULT_RUN.replace(".py", ".png")
    assert f"figure saved to {figure}" in stdout
    assert figure.stat().st_mtime >= started["start"] - 1
    for script in EXAMPLES:
        _finished(started, script.name)
    before = started["git status before"]
    if before is None:
        pytest.skip("not a git checkout")
    assert _git_status() == before, "running the examples changed the repository's files"
