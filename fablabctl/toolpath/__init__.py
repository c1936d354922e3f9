"""Toolpaths: STL -> printer G-code through a real slicer, DXF -> GRBL laser G-code.

Pure of the database and the web: takes a design file and a `MachineSpec`, returns a `ToolpathResult`.
"""
