"""Submit images to the redaction workers from any Python process, with the client only.

Start a stack first, e.g. in another terminal (dev mode supplies a public hash key)::

    REDACTOR_DEV_MODE=1 redactor up

then, with the same REDACTOR_* settings (Redis URL, with the password ``up`` keeps in
``var/redis-url``, and storage folder)::

    export REDACTOR_REDIS_URL=$(cat var/redis-url)
    python examples/submit_from_another_process.py photo.jpg scan.heic --out redacted/

The client needs no models and imports no worker code: it stores each image under a
random key, creates the job record and sends the task to Celery by name.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from redactor.jobs import JobState
from redactor.service.client import RedactorClient
from redactor.service.settings import ServiceSettings
from redactor.storage.keys import extension_for

log = logging.getLogger("submit-example")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tenant", default="example")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with RedactorClient(ServiceSettings()) as client:
        jobs = {client.submit(path, tenant=args.tenant): path for path in args.images}
        for job_id, path in jobs.items():
            record = client.wait(job_id, timeout=args.timeout)
            if record.state is not JobState.DONE:
                log.error("%s: %s (%s)", path.name, record.failure_code, record.failure_message)
                failures += 1
                continue
            target = args.out / f"{path.stem}.{extension_for(record.output_format or '')}"
            target.write_bytes(client.result(job_id))
            log.info("%s -> %s %s", path.name, target, client.report(job_id)["counts"])
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
