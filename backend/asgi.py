"""ASGI entry point for uvicorn (`uvicorn backend.asgi:app`); `python -m backend serve` uses it."""

import gc

from backend.app import create_app
from backend.core.config import Settings
from backend.core.pgserver import dev_database_url

settings = Settings.from_env()
app = create_app(settings, database_url=settings.database_url or dev_database_url(settings.var_dir))
# Everything built so far (modules, models, routes, the OpenAPI document: hundreds of thousands of
# objects) lives as long as the process: keep it out of the garbage collector's full collections, which
# otherwise walk all of it again and again under load (issue 26: 6-20 % of a public read's server CPU).
gc.freeze()
