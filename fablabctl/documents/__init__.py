"""The documents the probation service and the funders need: feuille de présence, attestation,
contrat d'engagement, bilan de session, fiche de restitution, absences to report.

`data.py` builds plain data from the service functions; `render.py` turns it into PDF (Jinja2 +
WeasyPrint) or CSV; `service.py` checks who may have which document and audits staff reads.
Nothing here imports the web layer.
"""
