"""ITSM Doctor: examine an IT service provider's records the way a physician examines a patient."""

__all__ = ["__version__"]

__version__ = "0.1.0"
