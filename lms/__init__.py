"""网格学堂 — training and certification LMS for community grid workers."""
from __future__ import annotations

import importlib

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

# Not `from lms.extensions import db`: that would shadow the lms.db module on the package.
from lms import config, errors, extensions


#: a feature imports only features before it; later ones listen to lms.signals
FEATURES = ["org", "accounts", "audit", "inbox", "courses", "trainings", "quizzes", "drills", "consultations", "mentoring", "points",
            "certification", "progress", "records", "reports", "field"]


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: config, extensions, features, security headers."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config.Defaults)
    if test_config is None:
        app.config.from_prefixed_env("LMS")
    else:
        app.config.from_mapping(test_config)
    config.finish(app)
    # Chinese stays readable (and a third of the bytes) in JSON; keys keep their documented order.
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    hops = int(app.config["TRUSTED_PROXIES"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(config.REPO_ROOT / "migrations"))
    extensions.csrf.init_app(app)
    extensions.login_manager.init_app(app)
    errors.init_app(app)

    from lms import web
    web.init_app(app)

    # Features, in dependency order (STYLE.md): each registers models, routes, CLI and importers.
    for name in FEATURES:
        importlib.import_module(f"lms.{name}").init_app(app)

    from lms import api, contentsync, maintenance
    contentsync.init_app(app)
    maintenance.init_app(app)
    api.init_app(app)
    return app
