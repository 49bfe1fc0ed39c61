"""certification feature (see ../shared/DESIGN.md); init_app registers its models, routes, CLI and importers."""


def init_app(app):
    """Nothing registered yet: this feature's models and routes have not been built."""
