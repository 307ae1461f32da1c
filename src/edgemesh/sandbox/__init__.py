"""Running untrusted code in isolation: bubblewrap, unshare, or resource limits."""

from edgemesh.sandbox.detect import detect_sandbox
from edgemesh.sandbox.limits import Limits, Outcome
from edgemesh.sandbox.runner import Sandbox

__all__ = ["Limits", "Outcome", "Sandbox", "detect_sandbox"]
