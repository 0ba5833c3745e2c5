# The gridflow pipeline processes (worker, sink, simulate, command-center) in one image.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gridflow gridflow
COPY schemas schemas
COPY producers producers
COPY streams streams
COPY sinks sinks

RUN pip install --no-cache-dir .
ENTRYPOINT []
CMD ["gridflow", "--help"]
