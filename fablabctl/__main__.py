"""`python -m fablabctl` is the same as the `fablabctl` command."""

from fablabctl.cli import main

main()
