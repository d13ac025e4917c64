# Builds lsq on Swift's Debian 12 image with the same apt packages the scripts install, then runs the CLI.
# (Not built on the development machines: they have no Docker engine.) The binary carries the Swift runtime and
# Foundation (--static-swift-stdlib; `ldd` lists only the libraries below, libc and zlib), so the runtime stage is a
# slim Debian with SuiteSparse's and OpenBLAS's shared libraries.
FROM swift:6.2-bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libsuitesparse-dev libopenblas-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product lsq

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libcholmod3 libspqr2 libsuitesparseconfig5 libopenblas0-pthread libstdc++6 zlib1g && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/.build/release/lsq /usr/local/bin/lsq
COPY data /data
ENTRYPOINT ["lsq"]
CMD ["solve", "/data/example.A.mtx", "/data/example.y.mtx"]
