# One image for every role (migrate, worker, beat, web): the same code path as the embedded default.
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends \
        libreoffice-writer-nogui libreoffice-calc-nogui fonts-noto-cjk unar antiword catdoc poppler-utils libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 fiscalwatch
WORKDIR /app
COPY pyproject.toml README.md ./
COPY fiscalwatch fiscalwatch
COPY config config
RUN pip install '.[ops]' && mkdir -p /data && chown fiscalwatch /data
USER fiscalwatch
ENTRYPOINT ["fiscalwatch"]
