# The redactor image: the base install (no PyTorch, no EasyOCR), for the API, the
# redaction and retention workers and beat; compose.yaml runs each from this image.
# Not built by CI: the machines CI runs on have no container engine (see README).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# OpenCV (pulled by MediaPipe) loads libGL and GLib at import time.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/redactor
COPY pyproject.toml constraints.txt README.md ./
COPY redactor ./redactor
COPY workers ./workers
COPY models ./models
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --constraint constraints.txt . \
    && /opt/venv/bin/pip check \
    && rm -rf /opt/redactor
ENV PATH=/opt/venv/bin:$PATH

# Every model file is checked against models/manifest.json now: an image whose weights
# are missing or altered fails to build instead of failing on its first upload.
RUN redactor models verify

# Runs as an unprivileged user. /data holds the shared storage and beat's schedule
# (named volumes take this ownership when compose first creates them).
RUN useradd --create-home --uid 10001 redactor \
    && mkdir -p /data/storage /data/beat \
    && chown -R redactor:redactor /data
USER redactor
WORKDIR /home/redactor
ENV REDACTOR_STORAGE_DIR=/data/storage \
    REDACTOR_SCRATCH_DIR=/tmp/redactor/scratch \
    REDACTOR_SPOOL_DIR=/tmp/redactor/spool

EXPOSE 8000
CMD ["redactor", "serve", "--host", "0.0.0.0", "--port", "8000"]
