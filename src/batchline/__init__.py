"""Batchline: manufacturing execution, warehouse and quality for GMP plants."""

__version__ = "0.1.0"
