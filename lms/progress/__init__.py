"""Follow-up: who has (not) finished a course, quiz, certification program or assignment; export and reminders.

Reads courses, quizzes and certification; the statistics (reports) read its figures.
"""


def init_app(app):
    from lms.accounts.permissions import Permission, has_permission
    from lms.home import register_nav, register_section
    from lms.progress import api, views  # noqa: F401  (api attaches its routes to lms.api.bp on import)

    app.register_blueprint(views.bp)
    register_nav(68, "学习进度", "progress.page", lambda user: has_permission(user, Permission.VIEW_PROGRESS),
                 group="manage")

    def section(user):
        if not has_permission(user, Permission.VIEW_PROGRESS):
            return None
        from flask import url_for  # request-time only
        return {"title": "学习进度", "tiles": [{"label": "谁还没完成", "url": url_for("progress.page"),
                                            "description": "按课程、测验、认证项目或指派查看每个人的进度，导出名单，提醒未完成的人"}]}

    register_section(84, section)
