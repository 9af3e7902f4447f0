"""sphinx-gallery hooks, in a module of their own so that the configuration pickles."""

# The gallery's order: from a first fit, through the lecture's ideas, to the integrations.
ORDER = [
    "quickstart.py",
    "plot_cost_curve.py",
    "plot_gradient_descent_path.py",
    "plot_learning_rate_grid.py",
    "plot_loops_vs_vectorized.py",
    "plot_l1_sparsity.py",
    "plot_cv_path.py",
    "plot_decision_boundary.py",
    "plot_column_transformer.py",
    "callbacks_monitoring.py",
    "plot_array_api_torch.py",
    "plot_dask_cluster.py",
]


class ExampleOrder:
    """``within_subsection_order``: the scripts in ORDER first, in that order, then the rest."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        return (ORDER.index(filename) if filename in ORDER else len(ORDER), filename)


def reset_sklearn_config(gallery_conf, fname):
    """Undo what an example set globally (Array API dispatch) before the next one runs."""
    import sklearn

    sklearn.set_config(array_api_dispatch=False)
