"""In-app inbox: every feature may post a message to a person (due courses, returned drills, reminders)."""


def init_app(app):
    from flask_login import current_user  # noqa: F401  (used by the nav predicate below)

    from lms.home import register_nav
    from lms.inbox import api, models, queries, views  # noqa: F401  (models register with the metadata)

    app.register_blueprint(views.bp)
    register_nav(70, "消息", "inbox.index", lambda user: True, badge=queries.nav_unread)
