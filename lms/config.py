"""Defaults; everything can be overridden by LMS_* environment variables."""
from __future__ import annotations

import functools
import json
import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    SQLALCHEMY_DATABASE_URI = None  # filled in: SQLite in the instance folder
    #: JSON columns keep Chinese as UTF-8, not \uXXXX escapes: a quiz paper is 22 KB instead of 36 KB per attempt
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"json_serializer": functools.partial(json.dumps, ensure_ascii=False)}
    SECRET_KEY = None  # filled in: random, persisted in the instance folder
    #: minutes without a request before a session ends (shared tablets)
    IDLE_TIMEOUT_MINUTES = 15
    #: hours after login before a session ends whatever happens
    ABSOLUTE_TIMEOUT_HOURS = 12
    LOCKOUT_THRESHOLD = 5
    LOCKOUT_MINUTES = 15
    #: number of reverse proxies in front of the app (X-Forwarded-For hops trusted)
    TRUSTED_PROXIES = 0
    #: argon2id cost (OWASP minimum: m=19 MiB, t=2, p=1)
    ARGON2_MEMORY_KIB = 19456
    ARGON2_TIME_COST = 2
    ARGON2_PARALLELISM = 1
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "lms_session"
    WTF_CSRF_TIME_LIMIT = None  # the session's own timeouts bound it
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    PUBLIC_URL = "http://127.0.0.1:8000"
    COURSES_DIR = str(REPO_ROOT / "courses")
    QUESTIONS_DIR = str(REPO_ROOT / "question_bank")


def finish(app) -> None:
    """Fill in defaults that depend on the instance folder."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'lms.sqlite3'}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://"):
        # psycopg 3 is the driver we ship.
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://"):]
    if not app.config.get("SECRET_KEY"):
        key_file = instance / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            os.chmod(key_file, 0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()
