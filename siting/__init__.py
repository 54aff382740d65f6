"""siting: how much solar PV and onshore wind each county of a Chinese province can host.

Quick start::

    import siting
    a = siting.assess("guangxi")          # or 广西, 450000, 柳州, a county adcode
    a.counties                            # GeoDataFrame, one row per county
    a.grid                                # xarray Dataset on the equal-area grid
    a.save("results/guangxi")
"""

from siting.assess import Assessment, assess
from siting.errors import SitingError
from siting.io.regions import Region, list_regions, resolve
from siting.rules.scenario import Scenario, load_scenario, with_overrides

__all__ = ["Assessment", "Region", "Scenario", "SitingError", "assess", "list_regions", "load_scenario",
           "resolve", "with_overrides"]
