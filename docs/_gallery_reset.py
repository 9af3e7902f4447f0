"""A sphinx-gallery ``reset_modules`` hook (a module of its own, so the config pickles)."""


def reset_sklearn_config(gallery_conf, fname):
    """Undo what an example set globally (Array API dispatch) before the next one runs."""
    import sklearn

    sklearn.set_config(array_api_dispatch=False)
