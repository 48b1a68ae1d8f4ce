# Spanwire's image: `docker compose up` builds it (see docker-compose.yml), or
#   docker build -t spanwire .
#   docker run --rm -it --privileged --pid host -v /sys/kernel/tracing:/sys/kernel/tracing \
#     -v /sys/kernel/btf:/sys/kernel/btf:ro -v /sys/fs/bpf:/sys/fs/bpf spanwire
#
# Build stage: JDK 25, the Maven wrapper, clang and libbpf's headers. It runs scripts/build.sh,
# the same script CI runs outside Docker (scripts/test.sh), so this path cannot rot unseen.
FROM eclipse-temurin:25.0.3_9-jdk-noble AS build
WORKDIR /src
COPY . .
RUN scripts/build.sh -q

# Runtime stage: a JRE 25, the libbpf runtime library and ISA-L (span export's gzip); the BPF
# object is inside the jar.
FROM eclipse-temurin:25.0.3_9-jre-noble
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libbpf1 libisal2 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/exporter/target/spanwire.jar /opt/spanwire/spanwire.jar
COPY config/application.conf /etc/spanwire/application.conf
# OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_* / SPANWIRE_* variables) override the file.
ENV OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317
# The JVM flags of scripts/lib.sh (SPANWIRE_JAVA_OPTS): a small heap, the serial collector, the C
# heap trimmed every 10 s in two malloc arenas, blocks of 32,000 bytes and more from mmap (the
# JIT's arena chunks go back to the system when freed), a compilation's memory at most 6 MiB (the ring buffer
# reader's loop without its handler inlined), the JVM's own
# warnings on stderr. (The launcher's
# ahead-of-time cache is not made here: it is recorded by a run that captures, which a build is not.)
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=32000
ENTRYPOINT ["java", "-Xms16m", "-Xmx24m", "-Xmn10m", "-XX:SurvivorRatio=3", "-XX:+UseSerialGC", "-XX:TrimNativeHeapInterval=10000", "-XX:CompileCommand=quiet", "-XX:CompileCommand=MemLimit,*.*,6m", "-XX:CompileCommand=dontinline,dev.spanwire.bpf.RingBufferReader::handle", "-XX:CompileThresholdScaling=4", "-Xlog:disable", "-Xlog:all=warning:stderr", "--enable-native-access=ALL-UNNAMED", "-jar", "/opt/spanwire/spanwire.jar", \
            "--config", "/etc/spanwire/application.conf"]
