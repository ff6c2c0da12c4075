"""Network analytics over the twin's history: deterministic methods, an optional narrator.

- descriptive (`describe`): counts, distribution and percentiles of each KPI per device,
  source (cell, access point, beacon), sensor and zone over a window;
- diagnostic (`anomalies`, `correlation`): sudden drops and rises, spikes, stuck values
  and gaps in KPI series, and how environment KPIs move with network KPIs, each with its
  evidence;
- predictive (`forecast`): short-horizon forecasts whose error is measured on held-back
  data against "no change";
- prescriptive (`recommend`): which interface a device should send a message over;
- `collect` reads series out of the core in event time; `service` runs the methods for
  the ``/v1/analytics`` routes of `api`; `narrator` optionally puts results into words
  through an OpenAI-compatible endpoint (off by default).

The methods are pure functions over `Series` (NumPy arrays), tested on synthetic series
with known answers.
"""

from server.analytics.anomalies import Anomaly, detect
from server.analytics.correlation import Correlation, correlate
from server.analytics.describe import Summary, summarize
from server.analytics.forecast import Forecast, forecast
from server.analytics.recommend import Battery, Link, Message, Recommendation, recommend
from server.analytics.series import Series

__all__ = [
    "Anomaly",
    "Battery",
    "Correlation",
    "Forecast",
    "Link",
    "Message",
    "Recommendation",
    "Series",
    "Summary",
    "correlate",
    "detect",
    "forecast",
    "recommend",
    "summarize",
]
