"""drills feature (模拟事件上报): drill files and taxonomy import, the report form with automatic checks,
trainer authoring and review, return-rate statistics."""


def init_app(app):
    from flask import url_for

    from lms.accounts.permissions import Permission, has_permission
    from lms.contentsync import register_importer
    from lms.drills import api, importer, models, views  # noqa: F401  (models register; api attaches routes)
    from lms.home import register_nav, register_section

    app.register_blueprint(views.bp)
    register_importer(10, "taxonomy", importer.import_taxonomy)
    register_importer(50, "drills", importer.import_drills)

    def learns(user):
        return has_permission(user, Permission.LEARN)

    register_nav(40, "上报演练", "drills.index", learns)

    def section(user):
        tiles = []
        if learns(user):
            tiles.append({"label": "模拟事件上报", "url": url_for("drills.index"),
                          "description": "按情景填写上报单，立即看到哪里会被退回"})
        if has_permission(user, Permission.REVIEW_DRILLS):
            tiles.append({"label": "演练报告复核", "url": url_for("drills.review_queue"),
                          "description": "查看辖区网格员的演练报告，改判并写评语"})
        if has_permission(user, Permission.AUTHOR_CONTENT):
            tiles.append({"label": "编写演练", "url": url_for("drills.manage"),
                          "description": "编写情景、答案和示范报告，检查通过后发布"})
        if has_permission(user, Permission.VIEW_STATS):
            tiles.append({"label": "演练退回率统计", "url": url_for("drills.stats"),
                          "description": "按规则、单位、演练和月份看退回率"})
        return {"title": "上报演练", "tiles": tiles} if tiles else None

    register_section(40, section)
