"""Audit log: who did what, when, to what, from where."""


def init_app(app):
    from lms.audit import models, views  # noqa: F401  (models register with the metadata)
    app.register_blueprint(views.bp)
