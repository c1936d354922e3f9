"""fablabctl: runs a Fab Lab's machines for a TIG pédagogique numérique.

Feature packages (see README, "Architecture"):
validation/ and toolpath/ are pure (no database, no web); machines/ knows nothing of jobs;
queue/ ties them together; web/ and cli/ are thin layers over the same service functions.
"""

__version__ = "0.1.0"
