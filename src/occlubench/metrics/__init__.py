"""Pure metric functions: (labels, probs) -> numbers, their bootstrap uncertainty, paired tests, robustness summaries.

Nothing here touches files or the terminal; every result is plain Python values, ready for JSON.
"""

from __future__ import annotations

from occlubench.metrics.classification import (
    HEADLINE_METRICS,
    SCALAR_METRICS,
    ResampleEvaluator,
    WeightedMetrics,
    compute_metrics,
)
from occlubench.metrics.robustness import (
    area_under_severity_curve,
    normalized_occlusion_error,
    relative_robustness,
    severity_at_half_accuracy,
)
from occlubench.metrics.stats import (
    McNemarResult,
    PairedDiff,
    bootstrap_ci,
    bootstrap_counts,
    holm_correction,
    mcnemar_exact,
    paired_bootstrap_diff,
    summarize_over_seeds,
)

__all__ = [
    "HEADLINE_METRICS",
    "SCALAR_METRICS",
    "McNemarResult",
    "PairedDiff",
    "ResampleEvaluator",
    "WeightedMetrics",
    "area_under_severity_curve",
    "bootstrap_ci",
    "bootstrap_counts",
    "compute_metrics",
    "holm_correction",
    "mcnemar_exact",
    "normalized_occlusion_error",
    "paired_bootstrap_diff",
    "relative_robustness",
    "severity_at_half_accuracy",
    "summarize_over_seeds",
]
