"""Imports every domain's tables so that Base.metadata is complete (Alembic, tests)."""

from regionvisa.records import models as records_models  # noqa: F401
from regionvisa.regions import models as regions_models  # noqa: F401
