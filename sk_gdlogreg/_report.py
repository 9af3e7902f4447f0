"""What a fit tells its user as it runs: verbose lines, callbacks, and warnings.

``IterationHooks`` are the solver's per-iteration hooks (``begin(k)`` before
iteration k's pass, ``end(k, model, F, residual, step)`` after its update):
scikit-learn's callbacks, one subtask per iteration, and the verbose lines.
``stop_reason`` and ``warn_about`` say why a fit stopped.
"""

import warnings

from sklearn.exceptions import ConvergenceWarning


def _printed(k):
    """Verbose output prints iterations 0-9, then every 10th to 99, every 100th to 999, ..."""
    every = 1
    while k >= 10 * every:
        every *= 10
    return k % every == 0


class IterationHooks:
    """verbose lines and scikit-learn callbacks around each iteration of a solver.

    ``unpack(model)`` gives ``{"coef_": ..., "intercept_": ...}`` of a model given
    as raw coefficients; it is called only if a callback asks for the model.
    """

    def __init__(self, verbose, iteration_ctx, unpack):
        self.verbose, self.iteration_ctx, self.unpack = verbose, iteration_ctx, unpack
        self.ctx = None
        self.pending = None  # the verbose line of the last iteration, if not printed

    def begin(self, k):
        if self.iteration_ctx is not None:
            fit_ctx, kwargs, _ = self.iteration_ctx
            self.ctx = fit_ctx.subcontext(task_name="iteration")
            self.ctx.call_on_fit_task_begin(**kwargs)

    def end(self, k, model, F, residual, step):
        if self.verbose:
            line = f"iter {k:5d}   J = {F:.8e}   residual = {residual:.3e}   step = {step:.3e}"
            if _printed(k):
                print(line)
                self.pending = None
            else:
                self.pending = line
        if self.iteration_ctx is None:
            return False
        _, kwargs, _ = self.iteration_ctx
        return self.ctx.call_on_fit_task_end(
            **kwargs, reconstruction_attributes=lambda: self.unpack(model)
        )

    def close(self, message):
        """The last iteration's line if not printed yet, and why the fit stopped."""
        if self.verbose:
            if self.pending is not None:
                print(self.pending)
            print(message)


def stop_reason(result, max_iter, tol):
    """One sentence: why the solver stopped."""
    n = result.n_iter
    if result.converged:
        return (
            f"converged at iteration {n - 1}: optimality residual "
            f"{result.residual:.3e} <= tol={tol}"
        )
    return {
        "callback": f"stopped by a callback after {n} iterations",
        "diverged": f"stopped at iteration {result.diverged_at}: the update overflowed; "
        "the last iterate with a finite J was kept",
        "line search": "stopped: the line search could not decrease J any further (rounding error)",
        "no progress": f"stopped after {n} iterations: J and the coefficients stopped "
        "changing (rounding error); no further progress is possible",
        None: f"stopped: max_iter={max_iter} iterations were reached",
    }[result.stopped]


def warn_about(result, *, learning_rate, solver, max_iter, tol, dtype):
    """A ConvergenceWarning that names the cause, when the fit did not converge."""
    if result.stopped == "diverged" or result.increased_at is not None:
        if learning_rate == "auto":
            advice = (
                f"The numbers of this problem are out of the range of {dtype}: "
                "rescale the features (e.g. StandardScaler), the sample weights, or C."
            )
        else:
            advice = (
                f"learning_rate={learning_rate!r} is too large for this data. Use a smaller "
                "learning_rate, standardize the features, or use learning_rate='auto'."
            )
        if result.stopped == "diverged":
            what = (
                f"J or the update overflowed at iteration {result.diverged_at}; the last "
                "iterate with a finite J was kept"
            )
        else:
            what = (
                "The objective J went up after a gradient step (first at iteration "
                f"{result.increased_at})"
            )
        if result.stopped == "diverged" and result.increased_at is not None:
            what += f", after J first went up at iteration {result.increased_at}"
        message = f"{what[0].upper()}{what[1:]}. {advice}"
    elif not result.converged and result.stopped != "callback":
        reason = {
            "line search": "the line search could not decrease J any further (rounding error)",
            "no progress": "J and the coefficients stopped changing (rounding error), so no "
            "further progress is possible",
        }.get(result.stopped, f"max_iter={max_iter} iterations were reached")
        advice = {
            "line search": ".",
            "no progress": ": this is as close to optimal as the arithmetic allows.",
        }.get(
            result.stopped,
            ". Increase max_iter" + (", or try solver='nesterov'." if solver == "gd" else "."),
        )
        message = (
            f"GDLogisticRegression did not converge: {reason} with the optimality "
            f"residual {result.residual:.2e} > tol={tol}{advice}"
        )
    else:
        return
    # warn_about, _fit, fit, _fit_context, the caller
    warnings.warn(message, ConvergenceWarning, stacklevel=5)
