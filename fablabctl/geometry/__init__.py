"""Shared geometry: DXF loading and flattening to contours, used by both validation and laser toolpaths.

Pure: no database, no web.
"""
