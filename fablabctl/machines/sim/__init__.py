"""Firmware simulators speaking Marlin and GRBL byte for byte on a pseudo-terminal.

The real drivers open the pty's slave side with pyserial, unchanged: tests and the demo mode run the
exact code path of a USB-connected machine, with faults that can be injected on purpose.
"""
