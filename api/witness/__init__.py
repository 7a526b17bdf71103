"""The witness's HTTP service (c2sp.org/tlog-witness), a small ASGI app of its own:
``custody witness serve`` starts it with uvicorn by the import string
``api.witness.app:app_from_env``."""
