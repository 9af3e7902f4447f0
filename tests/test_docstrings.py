"""The public docstrings are valid numpydoc (what the API pages of the docs are built from).

Checked: ``GDLogisticRegression``, ``GDLogisticRegressionCV``, ``LossCurveDisplay``,
``RegularizationPathDisplay`` and the public methods each
defines itself (methods inherited from scikit-learn, such as ``get_params`` or
``score``, are scikit-learn's docstrings), and every public function of
``sk_gdlogreg.lecture`` when that module exists.
"""

import importlib
import inspect

import pytest

validate = pytest.importorskip("numpydoc.validate").validate

import sk_gdlogreg  # noqa: E402

# Codes not required of this project's docstrings:
IGNORED = {
    "ES01",  # no extended summary: a one-line summary is enough for a simple method
    "SA01",  # no "See Also" section
    "EX01",  # no "Examples" section: the examples/ gallery and the docs carry them
    "RT02",  # "self : object" names the returned value, the scikit-learn convention
}

# Docstrings known to fail today, with the codes they fail. The checks of these
# are expected failures (strict: once a docstring is fixed its test fails until
# its entry is removed here). Empty this dict.
KNOWN_FAILURES = {}  # name: {codes}, each a strict xfail until its docstring is fixed


def _own_public_methods(cls):
    """Public methods (and class or static methods) that the package itself defines."""
    for name in sorted(vars(cls)):
        if name.startswith("_"):
            continue
        attribute = inspect.getattr_static(cls, name)
        function = getattr(attribute, "__func__", attribute)
        if inspect.isfunction(function) and function.__module__.startswith("sk_gdlogreg"):
            yield f"sk_gdlogreg.{cls.__name__}.{name}"


def _lecture_functions():
    """The public functions of sk_gdlogreg.lecture, if that module exists."""
    try:
        lecture = importlib.import_module("sk_gdlogreg.lecture")
    except ImportError:
        return []
    names = getattr(lecture, "__all__", None)
    if names is None:
        names = [
            name
            for name, obj in vars(lecture).items()
            if not name.startswith("_")
            and inspect.isfunction(obj)
            and obj.__module__ == lecture.__name__
        ]
    return [f"sk_gdlogreg.lecture.{name}" for name in sorted(names)]


def _public_api():
    names = []
    for cls in (
        sk_gdlogreg.GDLogisticRegression,
        sk_gdlogreg.GDLogisticRegressionCV,
        sk_gdlogreg.LossCurveDisplay,
        sk_gdlogreg.RegularizationPathDisplay,
    ):
        names.append(f"sk_gdlogreg.{cls.__name__}")
        names.extend(_own_public_methods(cls))
    return names + _lecture_functions()


def _params():
    for name in _public_api():
        marks = []
        if name in KNOWN_FAILURES:
            reason = f"known numpydoc failures {sorted(KNOWN_FAILURES[name])}: fix, then unlist"
            marks.append(pytest.mark.xfail(reason=reason, strict=True))
        yield pytest.param(name, id=name.removeprefix("sk_gdlogreg."), marks=marks)


@pytest.mark.parametrize("name", list(_params()))
def test_numpydoc(name):
    errors = [
        f"{code}: {message}" for code, message in validate(name)["errors"] if code not in IGNORED
    ]
    assert not errors, f"{name}:\n" + "\n".join(errors)


def test_the_public_api_is_checked():
    names = _public_api()
    for method in ("fit", "predict", "predict_proba", "decision_function"):
        assert f"sk_gdlogreg.GDLogisticRegression.{method}" in names
    for method in ("plot", "from_estimator", "from_estimators"):
        assert f"sk_gdlogreg.LossCurveDisplay.{method}" in names


def test_lecture_functions_are_checked():
    lecture = pytest.importorskip("sk_gdlogreg.lecture")
    checked = set(_lecture_functions())
    assert {"forward", "cost", "backward", "update", "gradient_descent"} <= set(lecture.__all__)
    assert {f"sk_gdlogreg.lecture.{name}" for name in lecture.__all__} == checked


def test_known_failures_are_public_api():
    """A stale entry (renamed or removed method) must not linger in KNOWN_FAILURES."""
    listed = set(KNOWN_FAILURES)
    if not _lecture_functions():  # the lecture's entries wait for the module
        listed = {name for name in listed if not name.startswith("sk_gdlogreg.lecture.")}
    assert listed <= set(_public_api())
