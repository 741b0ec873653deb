# The action server (hand-off tickets, contact form, contraindication check) on the
# official Rasa SDK image. Build from the repository root:
#   docker build -f deploy/docker/action-server.Dockerfile -t kat-actions:<version> .
# The tag must equal the rasa-sdk pin in requirements.txt (tests/test_deploy.py checks).
FROM rasa/rasa-sdk:3.6.2

USER root
WORKDIR /app
# The few libraries the actions use beyond rasa_sdk, at the versions pinned in
# requirements.txt (-c makes pip refuse any other version).
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -c /tmp/requirements.txt \
        SQLAlchemy psycopg2-binary requests PyYAML \
    && rm /tmp/requirements.txt
COPY actions/ /app/actions/
COPY kat/ /app/kat/
COPY content/ /app/content/
RUN chown -R 1001:0 /app && chmod -R g=u /app

ENV PYTHONPATH=/app \
    KAT_ACTION_BIND=0.0.0.0
USER 1001
EXPOSE 5055
# actions.server: rasa_sdk's app behind the shared-secret header (KAT_ACTION_SERVER_TOKEN).
ENTRYPOINT ["python", "-m", "actions.server"]
CMD ["--port", "5055"]
