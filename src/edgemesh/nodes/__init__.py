"""Contributors' nodes: enrolment, registration tokens, approval."""
