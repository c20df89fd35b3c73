"""Imports every domain's tables so that Base.metadata is complete (Alembic, tests)."""

from regionvisa.accounts import models as accounts_models  # noqa: F401
from regionvisa.applications import models as applications_models  # noqa: F401
from regionvisa.audit import models as audit_models  # noqa: F401
from regionvisa.compliance import models as compliance_models  # noqa: F401
from regionvisa.evaluation import models as evaluation_models  # noqa: F401
from regionvisa.jobs import models as jobs_models  # noqa: F401
from regionvisa.outcomes import models as outcomes_models  # noqa: F401
from regionvisa.programs import models as programs_models  # noqa: F401
from regionvisa.quotas import models as quotas_models  # noqa: F401
from regionvisa.records import models as records_models  # noqa: F401
from regionvisa.regions import models as regions_models  # noqa: F401
from regionvisa.selection import models as selection_models  # noqa: F401
from regionvisa.stats import models as stats_models  # noqa: F401
