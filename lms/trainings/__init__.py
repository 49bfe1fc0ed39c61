"""In-person trainings (线下培训): sessions, roll call, self check-in with a rotating code."""


def init_app(app):
    from lms.home import register_nav, register_section
    # models register; api and paperwork_api attach their routes; paperwork_views adds pages to views.bp
    from lms.trainings import api, models, paperwork_api, paperwork_views, views  # noqa: F401

    app.register_blueprint(views.bp)
    register_nav(40, "线下培训", "trainings.index", views.nav_visible)
    register_section(40, views.home_section)
