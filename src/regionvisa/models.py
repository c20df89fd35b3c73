"""Imports every domain's tables so that Base.metadata is complete (Alembic, tests)."""

from regionvisa.accounts import models as accounts_models  # noqa: F401
from regionvisa.audit import models as audit_models  # noqa: F401
from regionvisa.records import models as records_models  # noqa: F401
from regionvisa.regions import models as regions_models  # noqa: F401
