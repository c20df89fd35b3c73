"""RegionVisa: the region-led visa programme (광역형 비자), end to end."""

__version__ = "0.1.0"
