"""consultation drills (政策答询): a resident's question, the worker's answer as they would say it, automatic
checks (key points, wrong claims, referral, overpromise, plain language), trainer review and statistics."""


def init_app(app):
    from flask import url_for

    from lms.accounts.permissions import Permission, has_permission
    from lms.consultations import api, importer, models, views  # noqa: F401  (models register; api attaches routes)
    from lms.contentsync import register_importer
    from lms.home import register_nav, register_section

    app.register_blueprint(views.bp)
    register_importer(55, "consultations", importer.import_consultations)

    def learns(user):
        return has_permission(user, Permission.LEARN)

    register_nav(41, "政策答询", "consultations.index", learns)

    def section(user):
        tiles = []
        if learns(user):
            tiles.append({"label": "政策答询", "url": url_for("consultations.index"),
                          "description": "居民来问社保、医保、低保、拆迁……练一练怎么答得对、说得清"})
        if has_permission(user, Permission.REVIEW_DRILLS):
            tiles.append({"label": "答询回答复核", "url": url_for("consultations.review_queue"),
                          "description": "查看辖区网格员的回答，改判并写评语"})
        if has_permission(user, Permission.VIEW_STATS):
            tiles.append({"label": "答询统计", "url": url_for("consultations.stats"),
                          "description": "按题目和检查规则看退回率与改判"})
        if has_permission(user, Permission.AUTHOR_CONTENT):
            tiles.append({"label": "编写政策答询", "url": url_for("consultations.manage"),
                          "description": "在网页上出题：群众的问题、要点、示范回答，先检查范文再发布"})
        return {"title": "政策答询", "tiles": tiles} if tiles else None

    register_section(41, section)
