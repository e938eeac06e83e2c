# One image for the worker, beat and flower services of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Packages one service needs on top of the package (docker-compose.yml passes "flower" for
# the flower service), so the worker and beat images stay lean.
ARG EXTRA_PACKAGES=""

# Only what the image runs, named one by one: a plain "COPY ." would also send a local
# .venv, .git and the embedded server's data folder into the image.
COPY pyproject.toml README.md ./
COPY hatchet_celery ./hatchet_celery
RUN pip install . ${EXTRA_PACKAGES}
# The example app that the compose services run (celery -A examples.dag ...).
COPY examples ./examples

# Not root: a Celery worker has no reason to be. /app stays writable for beat's files.
RUN useradd --create-home --uid 1000 app && chown app:app /app
USER app

CMD ["celery", "-A", "examples.dag", "worker", "--loglevel=INFO"]
