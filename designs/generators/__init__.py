"""Parametric generators of the TIG projects' design files (run `python -m designs.generators`)."""
