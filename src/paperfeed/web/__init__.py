"""The web hub: FastAPI app, server-rendered HTML pages (Jinja2) and their static files."""
