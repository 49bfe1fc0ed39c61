"""quizzes feature (see ../shared/DESIGN.md); init_app registers its models, routes, CLI and importers."""


def init_app(app):
    """Register the quiz models, API routes, pages, CLI commands, importers, nav and home section."""
    from lms.contentsync import register_importer
    from lms.quizzes import api, cli, models, sync  # noqa: F401  (models register; api attaches its routes)

    app.cli.add_command(cli.quizzes_cli)
    register_importer(20, "banks", sync.import_banks)
    register_importer(30, "quizzes", sync.import_quizzes)
