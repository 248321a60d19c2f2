"""Customer data protection: erasure on request (SEC-3). See docs/privacy.md."""

from appliance.privacy.erase import (
    ErasureError,
    ErasurePlan,
    checked_number,
    erase,
    masked,
    plan,
)

__all__ = ["ErasureError", "ErasurePlan", "checked_number", "erase", "masked", "plan"]
