"""Settings for benchmark runs only: the real settings plus the bench URLconf (the bare views)."""
from __future__ import annotations

# Everything from the real settings: the benchmark measures the real configuration.
from wizard.settings import *

ROOT_URLCONF = "bench.bench_urls"
