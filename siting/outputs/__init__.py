"""What is drawn from an assessment: the interactive map and static figures.

``maps`` (the self-contained Leaflet page through folium, with the vendored assets of ``static/``, and static
choropleths), ``figures`` (the tornado). :class:`siting.Assessment` calls it (``map()``, ``save_map()``, ``save_figure()``); the tables on
disk are written by ``Assessment.save`` with :func:`siting.io.atomic.write_folder`.

May import: ``siting.reference`` and everything below it; not the API or the UI.
"""
