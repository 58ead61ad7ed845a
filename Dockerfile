# graphrestore gateway: build wheels in one stage, run without compilers in the next.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY clients/python clients/python
COPY pyproject.toml ./
COPY service service
RUN python -m venv /opt/graphrestore \
    && /opt/graphrestore/bin/pip install --no-cache-dir ./clients/python .

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin graphrestore \
    && mkdir -p /var/lib/graphrestore \
    && chown 10001:10001 /var/lib/graphrestore
COPY --from=build /opt/graphrestore /opt/graphrestore
ENV PATH=/opt/graphrestore/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GRAPHRESTORE_STATE_DIR=/var/lib/graphrestore
VOLUME ["/var/lib/graphrestore"]
USER 10001
EXPOSE 50051
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s CMD ["graphrestore-healthcheck"]
ENTRYPOINT ["graphrestore-gateway"]
