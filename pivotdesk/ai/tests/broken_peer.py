"""A peer step module whose own import is broken (for the pipeline tests): it needs a package that is missing."""

raise ModuleNotFoundError("No module named 'no_module_inside'", name="no_module_inside")
