# The screening service: webhooks, simulator, dashboard and (by default) the background loops.
# Build: docker build -t screening-bot .   Run: docker run -p 8000:8000 --env-file .env screening-bot
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PTB_TIMEDELTA=true \
    CONFIG_DIR=/app/config \
    ONCALL_FILE=/app/config/oncall.yaml \
    DATABASE_URL=sqlite:////app/var/screening.db
RUN useradd --create-home --uid 10001 app
COPY --from=build /install /usr/local
WORKDIR /app
COPY config ./config
RUN mkdir -p /app/var && chown app:app /app/var
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["sh", "-c", "python -m bot migrate && exec python -m bot serve --host 0.0.0.0 --port 8000"]
