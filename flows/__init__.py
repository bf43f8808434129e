"""cleanfeed's ingestion layer: find inputs, batch them, clean them, write the output folder.

Thin by design: all cleaning happens in :mod:`cleaners`. ``flows.sources`` discovers and reads
inputs, ``flows.runner`` runs a whole ingestion in-process (``run_ingest``), ``flows.store`` owns
the output folder, ``flows.ingest`` wraps the same run in a Prefect flow, ``flows.cli`` is the
``ingest`` console script. Only ``flows.ingest`` imports Prefect.
"""
