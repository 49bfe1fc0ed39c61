"""courses feature (see ../shared/DESIGN.md): curriculum import, catalog, reader, authoring, assignments."""


def init_app(app):
    from lms.contentsync import register_importer
    from lms.courses import importer, models, services  # noqa: F401  (models register with the metadata)
    from lms.signals import quiz_passed

    register_importer(40, "courses", importer.import_courses)
    # weak=False: the receiver is a module function, kept alive anyway; explicit for clarity.
    quiz_passed.connect(services.on_quiz_passed, weak=False)
