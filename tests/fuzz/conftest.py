"""Hypothesis profiles for the fuzz suite.

`ci` (the default) is derandomized: every run tries the same examples, so CI never turns red on a case that
no commit introduced, and a failure reproduces with a plain rerun. Finding new cases is the job of `explore`
(CCR_FUZZ_PROFILE=explore: random, ten times the examples) and of the coverage-guided `make fuzz`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
# no example database: derandomized runs don't need one, and it would leave .hypothesis/ in the tree
settings.register_profile("ci", max_examples=400, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_QUIET, print_blob=True)
settings.register_profile("explore", max_examples=1500, deadline=None, suppress_health_check=_QUIET,
                          print_blob=True)
settings.load_profile(os.environ.get("CCR_FUZZ_PROFILE", "ci"))
