# The staff inbox (tickets, replies, notification retries): a small Sanic app.
# Build from the repository root:
#   docker build -f deploy/docker/staff-inbox.Dockerfile -t kat-staff-inbox:<version> .
FROM python:3.10-slim

WORKDIR /app
# Only what the inbox imports, at the versions pinned in requirements.txt.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -c /tmp/requirements.txt \
        sanic sanic-routing aiohttp SQLAlchemy psycopg2-binary requests PyYAML PyJWT \
    && rm /tmp/requirements.txt \
    && useradd --uid 1001 --no-create-home --shell /usr/sbin/nologin kat
COPY kat/ /app/kat/
COPY staff_inbox/ /app/staff_inbox/
COPY content/ /app/content/
# The intents a reviewer may label queue entries with (kat/review_queue.py).
COPY domain.yml /app/domain.yml

ENV PYTHONPATH=/app \
    PYTHONUNBUFFERED=1
USER 1001
EXPOSE 8081
ENTRYPOINT ["python", "-m", "staff_inbox"]
CMD ["--host", "0.0.0.0", "--port", "8081"]
