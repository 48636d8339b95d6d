"""CLI command modules; each feature module has ``register(app)``."""
