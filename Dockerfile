# One image for every OpenCPMS service; the command picks the service:
#   docker run opencpms:latest opencpms_gateway run
# Build: docker build -t opencpms:latest .

# --- front-end libraries of the admin web UI, from the npm registry (locked) -----------------
FROM node:22-slim AS web
WORKDIR /web
COPY services/admin/web/package.json services/admin/web/package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

# --- Python wheels -----------------------------------------------------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY libs ./libs
COPY services ./services
RUN python -m venv /opt/opencpms \
 && /opt/opencpms/bin/pip install --upgrade pip \
 && /opt/opencpms/bin/pip install .

# --- runtime -----------------------------------------------------------------------------------
FROM python:3.11-slim
LABEL org.opencontainers.image.title="OpenCPMS" \
      org.opencontainers.image.description="Charge point management system: OCPP gateway and services" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/opencpms/opencpms"
ENV PYTHONUNBUFFERED=1 PATH="/opt/opencpms/bin:$PATH"
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin opencpms
COPY --from=build /opt/opencpms /opt/opencpms
# Chart.js for the web UI, where the admin service looks for it (next to its package).
COPY --from=web /web/node_modules /tmp/web-node_modules
RUN site=$(/opt/opencpms/bin/python -c "import opencpms_admin, os; print(os.path.dirname(opencpms_admin.__file__))") \
 && mv /tmp/web-node_modules "$site/web/node_modules"
USER 10001
EXPOSE 9000 8000
ENTRYPOINT ["python", "-m"]
CMD ["opencpms_gateway", "run"]
