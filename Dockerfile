# graphrestore gateway: install the hash-locked dependencies and build the two packages in
# one stage, run without compilers or pip in the next.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
# Only wheels, each checked against requirements.lock (make lock): two builds a week apart
# install the same files.
COPY requirements.lock ./
RUN python -m venv /opt/graphrestore \
    && /opt/graphrestore/bin/pip install --no-cache-dir --require-hashes --only-binary=:all: \
        -r requirements.lock
COPY clients/python clients/python
COPY pyproject.toml ./
COPY service service
# Built with the locked setuptools; then pip and setuptools leave the venv the runtime copies.
RUN /opt/graphrestore/bin/pip install --no-cache-dir --no-deps --no-build-isolation \
        ./clients/python . \
    && /opt/graphrestore/bin/pip uninstall --yes --quiet setuptools pip

FROM python:3.11-slim-bookworm
# The official base ships a pip of its own in /usr/local: the runtime keeps none.
RUN rm -rf /usr/local/bin/pip* /usr/local/lib/python3.11/site-packages/pip* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin graphrestore \
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
