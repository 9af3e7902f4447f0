"""The optimization plan of a fit, built in one place from the problem alone.

Given the objective (``_objective.Objective``, whatever container holds the data),
the column statistics of X and the estimator's parameters, ``make_plan`` decides
everything about *how* J is minimized, and ``Plan.run`` does it:

- the solver (plain or accelerated gradient descent) and its step: a constant
  ``learning_rate`` on the raw coefficients, or automatic steps;
- the coordinates the solver moves in (raw, standardized, whitened) and those
  in which ``tol`` is measured (standardized: unit-free);
- the first step, and whether and how often the coordinates are whitened anew;
- BLAS on one thread while a fit on NumPy data runs (``_blocks.one_blas_thread``).

Nothing here depends on the type of the arrays: the same problem in a NumPy
array, a sparse matrix, a Dask array or on a GPU gets the same plan, and so
takes the same path.
"""

from dataclasses import dataclass

import numpy as np

from . import _blocks, _penalty
from ._coordinates import WHITEN_EVERY, solver_coordinates, whitening
from ._objective import Objective
from ._problem import Problem
from ._solvers import SOLVERS, solve


@dataclass
class Plan:
    solver: object  # a function of _solvers.SOLVERS
    solver_name: str  # its name there
    problem: Problem  # J + h in the first coordinates, and where tol is measured
    learning_rate: float | None  # None: automatic steps
    step0: float  # the first automatic step
    recondition: object  # theta -> new coordinates (whitening), or None
    every: int  # iterations between renewals of the coordinates
    whiten_first: bool  # whitened from the first iteration (see make_plan)

    def run(self, theta0, *, max_iter, tol, callback=None, coords=None, return_coords=False):
        """Minimize from raw coefficients ``theta0``; a ``_solvers.Result``.

        ``coords`` and ``return_coords`` are the hook of GDLogisticRegressionCV's path
        (see "The path's hook" below); a plain fit passes neither.
        """
        with _blocks.one_blas_thread(self.problem.xp is np):  # threads over blocks instead
            problem, step0 = self.problem, self.step0
            if coords is None and self.whiten_first:
                coords = self.recondition(theta0)
            if coords is not None:  # whitened, the natural step is 1
                problem, step0 = problem.with_coords(coords), 1.0
            recondition, last = self.recondition, [coords]
            if return_coords and recondition is not None:
                recondition = _recording(recondition, last)
            result = solve(
                self.solver,
                problem,
                theta0,
                learning_rate=self.learning_rate,
                max_iter=max_iter,
                tol=tol,
                step0=step0,
                callback=callback,
                recondition=recondition,
                every=self.every,
            )
            return (result, last[0]) if return_coords else result

    def renewed_coords(self, theta):
        """``recondition(theta)`` with BLAS on one thread, as in ``run``: a product's last
        bits depend on BLAS's threads, and the path's results must not depend on
        whether its fits run in this process or in workers (``n_jobs``)."""
        with _blocks.one_blas_thread(self.problem.xp is np):
            return self.recondition(theta)


# --- The path's hook (GDLogisticRegressionCV): whitened coordinates kept from one C to
# the next. ``Plan.run(theta0, coords=W, return_coords=True)`` starts in the whitened
# coordinates W at step 1 instead of the standardized ones, and returns with the result
# the whitened coordinates the solver ended in (None if it never whitened). Only plans
# that whiten (``recondition`` set: automatic steps, no L1 term) take or give them.


def _recording(recondition, last):
    """``recondition`` that also keeps the last coordinates it gave in ``last[0]``."""

    def recorded(theta):
        coords = recondition(theta)
        if coords is not None:
            last[0] = coords
        return coords

    return recorded


def solver_name(solver, learning_rate, *, whitened, l1):
    """The solver ``solver="auto"`` stands for: plain gradient descent (the lecture's
    update, exactly) with a constant learning rate; with automatic steps, Nesterov's
    acceleration where the coordinates are ``whitened`` by the whole curvature or
    there is an L1 term, Anderson's elsewhere (diagonal coordinates, or one matrix
    per class of a softmax, which leaves the coupling of the classes to the steps).

    Measured (iterations, Anderson / Nesterov): to F within 1e-6 on the diagonal
    path, wide 5,000 x 1,000 23 / 36, sparse text 11 / 15, and with
    ``preconditioner="diagonal"`` digits 77 / 132, separable 50,000 x 100 at C=100
    33 / 33; default fits at tol 1e-8 with one matrix per class, digits 34 / 42, 10
    classes 50,000 x 60 20 / 24. Whitened by the whole curvature, where it is near
    the identity, Anderson took as many or up to two more: easy 7 / 7, separable
    13 / 11, raw breast cancer 14 / 13 (iris and wine, whitened jointly: 13-15 /
    14-16, the same within an iteration)."""
    if solver != "auto":
        return solver
    if learning_rate != "auto":
        return "gd"
    return "nesterov" if whitened or l1 else "anderson"


def make_plan(fit_data, *, C, l1_ratio, learning_rate, solver, preconditioner):
    """The objective of ``fit_data`` (a backend's ``FitData``) and the plan to minimize it."""
    l1, l2 = _penalty.strengths(C, l1_ratio, fit_data.weight_sum, fit_data.weight_scale)
    objective = Objective(fit_data.data, l2)
    auto_steps = learning_rate == "auto"
    tol_coords, coords, step0 = solver_coordinates(
        fit_data.mean,
        fit_data.std,
        l2,
        objective.n_outputs,
        objective.fit_intercept,
        auto_steps=auto_steps,
        xp=objective.xp,
        dtype=objective.dtype,
    )
    recondition = whitening(objective, l1, preconditioner, auto_steps, coords)
    # Where the default whitens, a binary fit without L1 is whitened from the start:
    # measured (iterations to F within 1e-6; from the start / after 5 iterations),
    # 50,000 x 100 easy 7 / 10, correlated 8 / 11, raw scales 7 / 10, separable at
    # C=100 26 / 29, breast cancer 12 / 14 (time 0.81x on correlated, 0.94x on easy).
    # Multinomial fits start standardized: whitened from the start, digits' folds
    # took 16 to 68 iterations instead of 16 to 17.
    first = preconditioner == "whitening" or (objective.n_outputs == 1 and not l1)
    whole = recondition is not None and recondition.blocks != "class"
    name = solver_name(solver, learning_rate, whitened=whole, l1=bool(l1))
    if name == "anderson" and l1:
        raise ValueError(
            "solver='anderson' takes no L1 term (l1_ratio > 0 with a finite C): its "
            "combination of past gradients has no proximal step. Use solver='nesterov' "
            "or solver='gd'."
        )
    plan = Plan(
        solver=SOLVERS[name],
        solver_name=name,
        problem=Problem(objective, l1, coords, tol_coords),
        learning_rate=None if auto_steps else float(learning_rate),
        step0=step0,
        recondition=recondition,
        every=WHITEN_EVERY if recondition is None else recondition.every,
        whiten_first=auto_steps and recondition is not None and first,
    )
    return objective, plan
