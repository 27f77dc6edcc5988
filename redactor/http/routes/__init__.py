"""One router per resource: uploads, jobs, health."""
