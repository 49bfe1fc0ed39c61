"""学时档案 (training record): one person's courses, trainings, quizzes, drills, mentoring, certificates and
points as a page, PDF, XLSX and JSON; HR exports the totals of a filtered set. Reads every learning feature."""


def init_app(app):
    from flask import url_for

    from lms.accounts.permissions import Permission, has_permission
    from lms.home import register_section
    from lms.records import api, queries, views  # noqa: F401  (the API routes attach to lms.api.bp on import)

    app.register_blueprint(views.bp)

    def section(user):
        tiles = []
        if has_permission(user, Permission.LEARN):
            tiles.append({"label": "我的学时档案", "url": url_for("records.mine"),
                          "description": "学过的课程、参加的培训、测验成绩、证书和积分，可下载 PDF 和 Excel"})
        if has_permission(user, queries.VIEW_RECORD):
            tiles.append({"label": "人员学时档案", "url": url_for("records.people"),
                          "description": "按单位和姓名查找，查看每个人的学时档案"})
            tiles.append({"label": "测验成绩与补考", "url": url_for("quizzes.results_index"),
                          "description": "管辖范围内每个人的测验最高分、作答次数，安排补考"})
        if has_permission(user, queries.EXPORT_RECORDS):
            tiles.append({"label": "导出学时档案汇总", "url": url_for("records.export_form"),
                          "description": "按单位和入职日期筛选，每人一行的学时、测验、证书、积分汇总表"})
        return {"title": "学时档案", "tiles": tiles} if tiles else None

    register_section(25, section)
