"""Every Python snippet of README.md and docs/*.rst runs, in order, and prints what its page shows.

A snippet is a ```python block of README.md or a ``.. code-block:: python`` of a
docs/*.rst page (the pages have no ``::`` literal blocks; a test keeps it so).
A page's snippets run in order, as a reader pastes them, in one fresh Python
process per page: ``python -W error::RuntimeWarning -W error::UserWarning -c
RUNNER``, with the headless matplotlib backend (``MPLBACKEND=Agg``). The
snippets run in the namespace of that process's ``__main__`` module, so an
``if __name__ == "__main__":`` block runs, and a ``-c`` program has no file for
Dask's spawned workers to import again, so they do not re-run the page.
Each snippet is compiled with its page's path and line numbers, so a traceback
points into the page. All the processes are started at once, then each test
awaits its own.
UserWarning includes scikit-learn's ConvergenceWarning: the front page's fits
must converge without one. Only distributed's own UserWarnings (a dashboard
port already taken on a busy machine) are let through.

Where a snippet is followed by an output block (a ```text block, or a
``.. code-block:: text``, with only blank lines between), what the snippet
printed must equal that block, line by line, trailing whitespace stripped.

Markers. A comment right before a snippet (blank lines allowed between) says
how it runs: ``<!-- snippet: ITEMS -->`` in Markdown, ``.. snippet: ITEMS`` (an
rst comment, invisible in the built docs) in rst, ITEMS separated by commas:

- ``needs NAME [NAME ...]``: the snippet is left out unless every module NAME
  imports; ``cuda`` means PyTorch with a CUDA device. The rest of the page
  still runs, so such a snippet must not define what later ones use.
- ``own process``: the snippet runs alone in a fresh process of its own, as it
  says it must (it sets an environment variable that SciPy reads at import).
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst"))]
TIMEOUT = 300  # seconds per process, generous for a busy machine
# The fewest snippets each page has today, so that a parsing bug that finds
# none cannot make the tests below pass by running nothing.
MIN_SNIPPETS = {
    "README.md": 5,
    "docs/index.rst": 1,
    "docs/getting_started.rst": 1,
    "docs/lecture.rst": 1,
    "docs/user_guide.rst": 3,
}
SEPARATOR = "----- end of snippet -----"

# Runs the snippets given as JSON in argv[1] in __main__'s namespace, each
# compiled with its page's path and line numbers (so a traceback points into
# the page) and followed by SEPARATOR on stdout, so that each snippet's output
# can be told apart.
RUNNER = f"""
import __main__, json, sys, warnings
warnings.filterwarnings("ignore", category=UserWarning, module="distributed")
for snippet in json.loads(sys.argv[1]):
    padded = "\\n" * (snippet["line"] - 1) + snippet["source"]
    exec(compile(padded, snippet["path"], "exec"), __main__.__dict__)
    print({SEPARATOR!r}, flush=True)
"""


@dataclass
class Snippet:
    page: str  # relative to the repository root
    line: int  # of the snippet's first line of code in the page
    source: str
    output: list | None  # the lines of the output block after it, or None
    needs: tuple = ()
    own_process: bool = False


def _markers(text):
    """``needs`` and ``own_process`` from a marker's comma-separated items."""
    needs, own_process = (), False
    for item in (part.strip() for part in text.split(",")):
        if item == "own process":
            own_process = True
        elif item.startswith("needs "):
            needs += tuple(item.split()[1:])
        else:
            raise ValueError(f"unknown snippet marker item {item!r}")
    return needs, own_process


def _previous_nonblank(lines, i):
    while i >= 0 and not lines[i].strip():
        i -= 1
    return lines[i] if i >= 0 else ""


def _next_nonblank(lines, i):
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def markdown_snippets(page, text):
    lines = text.splitlines()
    snippets, i = [], 0
    while i < len(lines):
        if lines[i] != "```python":
            i += 1
            continue
        end = lines.index("```", i + 1)
        marker = re.fullmatch(r"<!-- snippet: (.*) -->", _previous_nonblank(lines, i - 1))
        needs, own = _markers(marker[1]) if marker else ((), False)
        output, after = None, _next_nonblank(lines, end + 1)
        if after < len(lines) and lines[after] == "```text":
            output = lines[after + 1 : lines.index("```", after + 1)]
        source = "\n".join(lines[i + 1 : end]) + "\n"
        snippets.append(Snippet(page, i + 2, source, output, needs, own))
        i = end + 1
    return snippets


def _rst_block(lines, i):
    """The dedented body of the directive on line i, its first line and end."""
    indent = len(lines[i]) - len(lines[i].lstrip())
    j = i + 1
    while j < len(lines) and re.match(r"\s+:\w[\w-]*:", lines[j]):  # options
        j += 1
    start = _next_nonblank(lines, j)
    end = start
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
    ):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return textwrap.dedent("\n".join(lines[start:end])) + "\n", start, end


def rst_snippets(page, text):
    lines = text.splitlines()
    snippets = []
    for i, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        source, start, end = _rst_block(lines, i)
        marker = re.fullmatch(r"\s*\.\. snippet: (.*)", _previous_nonblank(lines, i - 1))
        needs, own = _markers(marker[1]) if marker else ((), False)
        output, after = None, _next_nonblank(lines, end)
        if after < len(lines) and lines[after].strip() == ".. code-block:: text":
            output = _rst_block(lines, after)[0].splitlines()
        snippets.append(Snippet(page, start + 1, source, output, needs, own))
    return snippets


def page_snippets(path):
    parse = markdown_snippets if path.suffix == ".md" else rst_snippets
    return parse(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))


@cache
def _available(name):
    if name == "cuda":
        # Without nvidia-smi there is no CUDA device: no need to import torch.
        if importlib.util.find_spec("torch") is None or shutil.which("nvidia-smi") is None:
            return False
        import torch

        return torch.cuda.is_available()
    return importlib.util.find_spec(name) is not None


def _missing(snippets):
    return sorted({name for s in snippets for name in s.needs if not _available(name)})


def _runs():
    """One run per page (its snippets in order), plus one per own-process snippet."""
    for path in PAGES:
        snippets = page_snippets(path)
        page = str(path.relative_to(ROOT))
        if any(not s.own_process for s in snippets):
            yield page, [s for s in snippets if not s.own_process]
        for s in snippets:
            if s.own_process:
                yield f"{page}:{s.line}", [s]


RUNS = dict(_runs())


def _start(snippets, folder):
    """Start a fresh process that runs the snippets in order, writing into folder."""
    payload = [{"path": str(ROOT / s.page), "line": s.line, "source": s.source} for s in snippets]
    command = [sys.executable, "-W", "error::RuntimeWarning", "-W", "error::UserWarning"]
    # Output to files, not pipes: a process never waits for the test to read it.
    with open(folder / "stdout", "w") as stdout, open(folder / "stderr", "w") as stderr:
        return subprocess.Popen(
            [*command, "-c", RUNNER, json.dumps(payload)],
            cwd=folder,  # whatever a snippet writes lands here, not in the repository
            env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)},
            stdout=stdout,
            stderr=stderr,
        )


@pytest.fixture(scope="module")
def started(request, tmp_path_factory):
    """The selected runs' processes, started at once; each test then awaits its
    own, so the file takes about as long as its slowest page, not the sum."""
    selected = {
        item.callspec.params["run"]
        for item in request.session.items
        if "run" in getattr(getattr(item, "callspec", None), "params", {})
    }
    processes = {}
    for run, snippets in RUNS.items():
        if run not in selected:
            continue
        runnable = [s for s in snippets if not _missing([s])]
        if runnable:
            folder = tmp_path_factory.mktemp("snippets")
            processes[run] = (runnable, folder, _start(runnable, folder))
    yield processes
    for _, _, process in processes.values():
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("run", RUNS)
def test_snippets_run_and_print_what_the_page_shows(run, started):
    if run not in started:
        pytest.skip(f"needs {', '.join(_missing(RUNS[run]))}")
    snippets, folder, process = started[run]
    process.wait(timeout=TIMEOUT)
    stdout = (folder / "stdout").read_text()
    outputs = stdout.split(SEPARATOR + "\n")
    done = len(outputs) - 1
    if process.returncode != 0:
        failed = snippets[done]
        stderr = (folder / "stderr").read_text()
        pytest.fail(f"the snippet at {failed.page}:{failed.line} raised:\n{stderr[-4000:]}")
    assert done == len(snippets), stdout
    for snippet, printed in zip(snippets, outputs):
        if snippet.output is not None:
            got = [line.rstrip() for line in printed.splitlines()]
            expected = [line.rstrip() for line in snippet.output]
            assert got == expected, f"what the snippet at {snippet.page}:{snippet.line} printed"


def test_every_snippet_is_found():
    counts = {}
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        page = str(path.relative_to(ROOT))
        snippets = page_snippets(path)
        if snippets:
            counts[page] = len(snippets)
        # Every opening of a Python block is parsed as a snippet...
        raw = len(re.findall(r"^```python$|^\s*\.\. code-block:: python$", text, re.M))
        assert len(snippets) == raw, page
        # ... every snippet has code, and every output block belongs to one.
        assert all(s.source.strip() for s in snippets), page
        raw_outputs = len(re.findall(r"^```text$|^\s*\.\. code-block:: text$", text, re.M))
        if page != "docs/lecture.rst":  # its text block is the loops' pseudo-code
            assert sum(s.output is not None for s in snippets) == raw_outputs, page
        # No rst literal block ("::" at the end of a paragraph): Python in one
        # would escape these tests.
        if path.suffix == ".rst":
            assert not re.search(r"^(?!\s*\.\. ).*\S::$", text, re.M), page
    assert set(counts) == set(MIN_SNIPPETS)
    for page, fewest in MIN_SNIPPETS.items():
        assert counts[page] >= fewest, page


def test_markers_are_read():
    text = textwrap.dedent(
        """\
        Text.

        .. snippet: own process, needs torch cuda

        .. code-block:: python

           print(1)

        .. code-block:: text

           1
        """
    )
    (snippet,) = rst_snippets("page.rst", text)
    assert (snippet.needs, snippet.own_process) == (("torch", "cuda"), True)
    assert (snippet.line, snippet.source, snippet.output) == (7, "print(1)\n", ["1"])
    markdown = "<!-- snippet: needs dask -->\n```python\nx = 1\n```\n\n```text\n1\n```\n"
    (snippet,) = markdown_snippets("page.md", markdown)
    assert (snippet.needs, snippet.own_process, snippet.line) == (("dask",), False, 3)
    assert snippet.output == ["1"]
    with pytest.raises(ValueError, match="unknown snippet marker"):
        _markers("needs torch, typo")
