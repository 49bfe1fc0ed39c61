"""quizzes feature (see ../shared/DESIGN.md); init_app registers its models, routes, CLI and importers."""


def init_app(app):
    """Register the quiz models, API routes, pages, CLI commands, importers, nav and home section."""
    from flask import url_for

    from lms.accounts.permissions import Permission, has_permission
    from lms.contentsync import register_importer
    from lms.home import register_nav, register_section
    from lms.quizzes import api, cli, models, sync, views  # noqa: F401  (models register; api attaches its routes)
    from lms.quizzes import paper_views, papers_api  # noqa: F401  (exam papers, bank management: routes on bp)

    app.register_blueprint(views.bp)
    # 我的学习 lists assigned and scheduled exams beside the courses (courses come first: it asks, we answer).
    from lms.courses.views import register_learning_items
    register_learning_items(views.learning_exams)
    # A start draws and lays out its paper before it takes SQLite's write lock (services.start_attempt).
    from lms.web import reads_first
    reads_first("api.start_attempt")
    app.cli.add_command(cli.quizzes_cli)
    register_importer(20, "banks", sync.import_banks)
    register_importer(30, "quizzes", sync.import_quizzes)

    def learns(user):
        return has_permission(user, Permission.LEARN) or has_permission(user, Permission.AUTHOR_CONTENT)

    register_nav(40, "测验", "quizzes.index", learns)

    def quiz_section(user):
        if not learns(user):
            return None
        tiles = [{"label": "测验与考试", "url": url_for("quizzes.index"), "description": "政策测验、县级统考，限时作答，自动保存"},
                 {"label": "错题本", "url": url_for("quizzes.mistakes"),
                  "description": "做错的题附正确答案、解析和法律依据；现在练一练，再按间隔复习"},
                 {"label": "按专题练习", "url": url_for("quizzes.topics"), "description": "从题库按专题抽题练习，不计成绩"}]
        if has_permission(user, Permission.AUTHOR_CONTENT):
            tiles.append({"label": "题库管理", "url": url_for("quizzes.banks"),
                          "description": "导入 Excel、GIFT、Aiken 题目，下载导入模板"})
        return {"title": "测验", "tiles": tiles}

    register_section(40, quiz_section)
