"""optimize: rewrites FastAPI + SQLAlchemy backends to make them faster."""

__version__ = "0.1.0"
