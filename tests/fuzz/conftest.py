"""The fuzz tier: Hypothesis against the wire codecs, Schemathesis against the OpenAPI
document.  ``make test`` runs it with a small budget (the ``ci`` profile); ``make fuzz``
runs it with ``FUZZ_EXAMPLES`` examples per property (default 2,000)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# In make test the examples are derived from each test's name (the same every run, so a
# failure there is reproducible); make fuzz draws new ones each time.
settings.register_profile("ci", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")), deadline=None,
                          derandomize="FUZZ_EXAMPLES" not in os.environ,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("ci")
