"""Design validation: STL, DXF and G-code checked like an expert trainer would.

Pure functions on files and plain data returning a `Report`; must not import the database, the web,
the queue or the drivers.
"""
