"""Org tree: province → city → county → township → village → grid."""


def init_app(app):
    from lms.org import api, cli, models, views  # noqa: F401  (models register with the metadata)
    app.cli.add_command(cli.org_cli)
    app.register_blueprint(views.bp)
