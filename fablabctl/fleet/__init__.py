"""The fleet: the machines a site has, as records (CRUD, specs for validation and scheduling).

Talking to a machine is `fablabctl.machines`' job; this package only keeps what is known about it.
"""
