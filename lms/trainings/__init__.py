"""In-person trainings (线下培训): sessions, roll call, self check-in with a rotating code."""


def init_app(app):
    from lms.home import register_nav, register_section
    from lms.trainings import api, models, views  # noqa: F401  (models register; api attaches its routes)

    app.register_blueprint(views.bp)
    register_nav(40, "线下培训", "trainings.index", views.nav_visible)
    register_section(40, views.home_section)
