"""The mobile Fab Lab: a van works offline on its own database, then hands its records to the central site.

Van side: `pull_apply` (what `sync pull` writes), `collect` + `outbox` (every record made in the van
waits until acknowledged), `client` (pull and push over HTTP), `exchange` (the outbox as one file).
Central side: `tokens` (one van, one cohort), `pull_serve` (least data for the van), `central`
(files, pushes, imported files), `apply` with `apply_people` / `apply_work` (merged by UUID, once).
Shared: `codec`, `outcome`, and `bundle` (the exchange file's integrity and encryption). Which hours
came from a van, and when, is shown with the hours (`people/van_hours.py`).

Imports people/, designs/ and queue/ models and functions; nothing here imports web/ (its router
`web/routers/sync.py` imports this package).
"""
