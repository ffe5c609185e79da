"""ASGI entry point for uvicorn (`uvicorn backend.asgi:app`); `python -m backend serve` uses it."""

from backend.app import create_app
from backend.core.config import Settings
from backend.core.pgserver import dev_database_url

settings = Settings.from_env()
app = create_app(settings, database_url=settings.database_url or dev_database_url(settings.var_dir))
