# The web chat's static server (python -m webchat): widget.js/.css, the socket.io client
# and the demo page, with its Content-Security-Policy. Build from the repository root:
#   docker build -f deploy/docker/webchat.Dockerfile -t kat-webchat:<version> .
# The socket.io client comes from web/package-lock.json (npm ci in a build stage; the
# browser never loads anything from a CDN). A clinic that embeds the widget in its own
# site can instead copy the files (docs/deploy.md, "Web chat"): widget.js, widget.css,
# the socket.io client and the strings of web/i18n/.
FROM node:20-slim AS client
WORKDIR /web
COPY web/package.json web/package-lock.json /web/
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.10-slim
WORKDIR /app
# Only what the static server imports, at the versions pinned in requirements.txt.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -c /tmp/requirements.txt aiohttp PyYAML \
    && rm /tmp/requirements.txt \
    && useradd --uid 1001 --no-create-home --shell /usr/sbin/nologin kat
COPY kat/ /app/kat/
COPY webchat/ /app/webchat/
COPY content/ /app/content/
COPY web/widget.js web/widget.css web/demo.css web/index.html /app/web/
COPY web/i18n/en.json web/i18n/es.json /app/web/i18n/
COPY --from=client /web/node_modules/socket.io-client/dist/socket.io.min.js \
     /app/web/node_modules/socket.io-client/dist/socket.io.min.js

ENV PYTHONPATH=/app \
    PYTHONUNBUFFERED=1
USER 1001
EXPOSE 8080
# KAT_WEB_RASA_URL: the Rasa server as the patient's browser reaches it (https://...).
ENTRYPOINT ["python", "-m", "webchat"]
CMD ["--host", "0.0.0.0", "--port", "8080"]
