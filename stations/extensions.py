"""Flask extensions, created unbound here and bound to the app in `create_app`."""

from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

htmx = HTMX()
csrf = CSRFProtect()
login = LoginManager()
migrate = Migrate()
