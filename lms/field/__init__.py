"""field feature: the grid platform's event outcomes — import, demo year, field quality per person and unit;
training needs, remediation, outcomes and field points (lms.field.training).

It comes after reports (FEATURES): it reads mentoring and reuses the dashboard's server-side SVG charts.
"""
import importlib


def init_app(app):
    """Register models, the CLI group, the API routes, the HTML blueprint, nav entries and home sections."""
    from lms.field import api, cli, models, views  # noqa: F401  (models register with the metadata; api attaches routes)

    app.cli.add_command(cli.field_cli)
    app.register_blueprint(views.bp)
    views.register_home()
    # Items 3–5 of issue #19 (training needs, remediation, outcomes, points) wire themselves in.
    try:
        training = importlib.import_module("lms.field.training")
    except ModuleNotFoundError as exc:
        if exc.name != "lms.field.training":
            raise
    else:
        training.init_app(app)
