"""Extension objects, created unbound; ``create_app`` calls their ``init_app``."""
from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from .models.base import Base
from .ratelimit import device_key, no_limit_applies

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=device_key, default_limits=[])
limiter.request_filter(no_limit_applies)  # requests no limit can count skip the limiter
login = LoginManager()
