"""Unbound extension objects; create_app binds them (avoids circular imports)."""
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from lms.db import Model

db = SQLAlchemy(model_class=Model)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
