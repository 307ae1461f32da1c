"""The coordinator: worker API, workload API, node enrolment, wallet."""
