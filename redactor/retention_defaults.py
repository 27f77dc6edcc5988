"""How long things are kept when nothing else is configured: the one place for defaults.

Settings, the retention policy and the job records all take their defaults from here.
"""

from __future__ import annotations

from datetime import timedelta

#: Originals are deleted this long after upload.
ORIGINAL_RETENTION = timedelta(hours=24)
#: Results and reports are deleted this long after the job finished.
RESULT_RETENTION = timedelta(days=30)
#: Window 0: how long an original may wait for its job to finish before it is deleted
#: anyway (a stuck job must not keep it alive).
PENDING_LIMIT = timedelta(hours=1)
#: A record that holds nothing any more (its objects deleted by retention or erasure) is
#: kept this long, so clients get 404/410 and support can answer, then removed.
TOMBSTONE_GRACE = timedelta(days=30)
#: The audit log's own retention: the longest period in the privacy policies served.
AUDIT_RETENTION = timedelta(days=7 * 365 + 2)
