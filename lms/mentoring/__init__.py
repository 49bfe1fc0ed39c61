"""mentoring feature (老带新 and 1+N grid teams): pairings, confirmed activity logs, dashboard, outcomes, team rule."""


def init_app(app):
    """Register models, API routes, the HTML blueprint, nav entries and home sections; set config defaults."""
    from lms.mentoring import api, models, views  # noqa: F401  (models register with the metadata; api attaches routes)
    from lms.mentoring.eligibility import DEFAULT_CAPACITY, DEFAULT_MIN_YEARS

    app.config.setdefault("MENTOR_MIN_YEARS", DEFAULT_MIN_YEARS)
    app.config.setdefault("MENTOR_CAPACITY", DEFAULT_CAPACITY)
    app.register_blueprint(views.bp)
    views.register_home()
