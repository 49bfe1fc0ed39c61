"""field feature: the grid platform's event outcomes — import, demo year, field quality per person and unit."""


def init_app(app):
    """Register models (and, as they come, routes, the CLI group, nav entries and home sections)."""
    from lms.field import models  # noqa: F401  (models register with the metadata)
