"""Shared geometry: DXF loading and flattening to contours, used by both validation and laser toolpaths.

Pure: no database, no web. Public surface re-exported here.
"""

from fablabctl.geometry.contours import Contour
from fablabctl.geometry.drawing import Extents, LoadedDrawing, load_drawing
from fablabctl.geometry.dxf_read import DxfLoadError, Units
from fablabctl.geometry.operations import LayerRules, Operation, default_rules

__all__ = [
    "Contour",
    "DxfLoadError",
    "Extents",
    "LayerRules",
    "LoadedDrawing",
    "Operation",
    "Units",
    "default_rules",
    "load_drawing",
]
