"""Points ledger (积分): awards for learning events, the history page, points on /me."""


def init_app(app):
    from lms.accounts.profile import contribute
    from lms.home import register_nav
    from lms.points import api, handlers, models, queries, views  # noqa: F401  (models register; api routes attach)

    handlers.connect()
    app.register_blueprint(views.bp)
    register_nav(40, "积分", "points.history", lambda user: True)
    contribute(_profile_points)


def _profile_points(user) -> dict:
    from lms.points.queries import total_points  # late: the module imports models, registered in init_app
    return {"points": total_points(user)}
