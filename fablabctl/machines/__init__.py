"""Machine drivers (OctoPrint, Marlin serial, GRBL serial) and firmware simulators.

Knows nothing of jobs or the database: connects, streams a G-code file, reports state and events,
obeys pause / resume / cancel / emergency stop.
"""
