"""The app's routers, one module per part; ``create_app`` includes each in ``ROUTERS``."""
