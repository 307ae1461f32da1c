"""Running untrusted code in isolation: bubblewrap, unshare, or resource limits."""

from edgemesh.sandbox.limits import Limits, Outcome
from edgemesh.sandbox.runner import Sandbox, detect_sandbox

__all__ = ["Limits", "Outcome", "Sandbox", "detect_sandbox"]
