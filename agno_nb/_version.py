"""agno_nb's version, in a module of its own: modules inside the package read it without importing the package."""

__version__ = "0.1.0"
