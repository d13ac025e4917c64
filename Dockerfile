# Builds lsq on Swift's Debian image with the same apt packages the scripts install, then runs the CLI.
FROM swift:6.1-bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libsuitesparse-dev libopenblas-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product lsq

FROM swift:6.1-bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libcholmod3 libspqr2 libsuitesparseconfig5 libopenblas0-pthread && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/.build/release/lsq /usr/local/bin/lsq
COPY data /data
ENTRYPOINT ["lsq"]
CMD ["solve", "/data/example.A.mtx", "/data/example.y.mtx"]
