"""The newcomer's tour of gridflow: ``gridflow demo``, ``gridflow command-center`` and ``gridflow report``.

- :mod:`gridflow.demo.svg` draws bar charts as inline SVG (no JavaScript, renders offline);
- :mod:`gridflow.demo.figures` reads the analyst figures (KPIs, breakdowns) from a ClickHouse store;
- :mod:`gridflow.demo.report` renders them as one self-contained HTML page;
- :mod:`gridflow.demo.cap` builds and checks CAP 1.2 alerts for county and city escalations;
- :mod:`gridflow.demo.command_center` is the live command-centre feed;
- :mod:`gridflow.demo.runner` runs the whole pipeline for a simulated day with a live display: its child
  processes (:mod:`gridflow.demo.pipeline`), the figures sampled from Kafka (:mod:`gridflow.demo.rates`)
  and the panel that shows them (:mod:`gridflow.demo.live`);
- :mod:`gridflow.demo.cli` registers the three commands on the ``gridflow`` CLI.
"""
