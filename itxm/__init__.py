"""ITXM: IT Experience Management."""

__version__ = "0.1.0"
