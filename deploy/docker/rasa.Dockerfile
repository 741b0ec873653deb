# The Rasa server (NLU + dialogue + the project's components) on the official image.
# Build from the repository root after `make train`:
#   docker build -f deploy/docker/rasa.Dockerfile -t kat-rasa:<version> .
# The version must equal the rasa pin in requirements.txt (tests/test_deploy.py checks).
FROM rasa/rasa:3.6.21-full

USER root
WORKDIR /app
# The project's code that runs inside Rasa (custom NLG, safety gate and policy, channels,
# tracker store) and what it reads (content/: clinic profile, safety patterns).
COPY kat/ /app/kat/
COPY components/ /app/components/
COPY channels/ /app/channels/
COPY content/ /app/content/
COPY scripts/build_spacy_pipeline.py /app/scripts/build_spacy_pipeline.py
# `rasa run` with the HTTP API's JWT secret from RASA_JWT_SECRET, never on the command
# line (which every process in the container, and monitoring, can read).
COPY scripts/rasa_run.py /app/scripts/rasa_run.py
# Only the production endpoints: in Kubernetes the chart mounts its own endpoints.yml and
# credentials.yml (rendered from deploy/helm/rasa-values.yml); the embedded SQLite
# endpoints.yml is deliberately not in the image.
COPY endpoints.production.yml /app/
# The replies a channel sends itself when the assistant fails (kat/channel_replies.py).
COPY domain.yml /app/domain.yml
# The blank spaCy pipeline with the reviewed entity patterns (nothing is downloaded).
RUN python /app/scripts/build_spacy_pipeline.py
# The trained model (models/ is built by `make train`, not kept in git).
COPY models/kat-assistant.tar.gz /app/models/kat-assistant.tar.gz
RUN chown -R 1001:0 /app && chmod -R g=u /app

ENV PYTHONPATH=/app \
    KAT_PROFILE=production \
    RASA_TELEMETRY_ENABLED=false
USER 1001
EXPOSE 5005
# Instead of the image's `rasa` entrypoint: the launcher adds --enable-api, the secret
# from RASA_JWT_SECRET and --jwt-method HS256. The Helm values pass the `run ...` arguments.
ENTRYPOINT ["python", "/app/scripts/rasa_run.py"]
CMD ["run", "--model", "models/kat-assistant.tar.gz", "--endpoints", "endpoints.production.yml", "--port", "5005"]
