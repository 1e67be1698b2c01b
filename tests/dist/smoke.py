"""Run in a fresh venv after `pip install` of a built wheel or sdist: argv[1] is the version."""
import sys

import support_access as sa
from support_access import Actor, GrantType, Policy, Resource

expected = sys.argv[1]
assert sa.__version__ == expected, (sa.__version__, expected)
assert "site-packages" in sa.__file__, sa.__file__  # the installed package, not a source tree
p = Policy("org-1", restrict_employee_access=True)
a = Actor.org_owner("alice")
p.add_project(a, "p1", "2026-11-28T12:00:00Z")
p.add_cluster(a, "p1", "Cluster0", "2026-11-28T12:00:00Z")
p.grant(a, "Cluster0", GrantType.CLUSTER_DATABASE_LOGS, "2026-11-28T12:00:00Z")
d = p.evaluate("Cluster0", Resource.DATABASE_LOGS, "2026-11-28T13:00:00Z")
assert d.allowed and d.remaining_ms == 23 * 3600 * 1000, d
assert sa.verify_record(p.export_record()) >= 3
print(f"support_access {sa.__version__} from {sa.__file__}: {d}")
