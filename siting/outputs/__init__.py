"""Files made from an assessment: the interactive map, static figures, tables on disk.

``maps`` (the self-contained Leaflet page and static choropleths), ``files`` (counties.csv/.gpkg,
summary, waterfall, provenance, written atomically), ``figures`` (supply curves). Called by
:class:`siting.Assessment` and the CLI.

May import: ``siting.reference`` and everything below it; not the API or the UI.
"""
