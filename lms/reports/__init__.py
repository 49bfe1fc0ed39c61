"""Reports: statistics per org unit (page and API) and exports; reads every feature, read by none."""


def init_app(app):
    from lms.accounts.permissions import Permission, has_permission
    from lms.home import register_nav, register_section
    from lms.reports import views  # the API route attaches to lms.api.bp on import

    app.register_blueprint(views.bp)
    register_nav(70, "统计", "reports.stats_page", lambda user: has_permission(user, Permission.VIEW_STATS),
                 group="manage")

    def stats_section(user):
        if not has_permission(user, Permission.VIEW_STATS):
            return None
        from flask import url_for  # request-time only
        return {"title": "统计", "tiles": [{"label": "培训与学习统计", "url": url_for("reports.stats_page"),
                                          "description": "场次、人次、学时、课程完成率，按下级单位分列"},
                                         {"label": "统计图表", "url": url_for("reports.dashboard_page"),
                                          "description": "各乡镇（村）完成率、通过率、退回率、持证率、到期证书"}]}

    register_section(85, stats_section)
