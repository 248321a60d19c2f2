"""Quality assurance (REC-3): sample agents' recordings, score them on configured scorecards."""

from appliance.qa.sampling import QaError, Sample, period_of, sample_recordings
from appliance.qa.scoring import Evaluation, qa_report, score_recording

__all__ = [
    "Evaluation",
    "QaError",
    "Sample",
    "period_of",
    "qa_report",
    "sample_recordings",
    "score_recording",
]
