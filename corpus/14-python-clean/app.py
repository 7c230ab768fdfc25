"""Print how long ago some builds finished, in words."""
import datetime as dt

import humanize

NOW = dt.datetime(2025, 2, 17, 15, 25)
BUILDS = {"cold": dt.datetime(2025, 2, 17, 14, 55), "warm": dt.datetime(2025, 2, 17, 15, 24, 30)}

for name, finished in BUILDS.items():
    print(f"{name}: {humanize.naturaltime(NOW - finished)}")
