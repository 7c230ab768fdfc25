# eclipse-temurin:17 stand-ins: Debian bookworm's OpenJDK 17 (headless).
# PKG is openjdk-17-jre-headless for 17-jre; the 17-jdk image is built FROM
# the 17-jre one with PKG=openjdk-17-jdk-headless, so they share layers.
ARG BASE=debian:bookworm
FROM ${BASE}
ARG VERSION
ARG PKG=openjdk-17-jre-headless
# The official images keep the JDK in /opt/java/openjdk (= JAVA_HOME).
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ${PKG}; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /opt/java; \
    ln -sfn "/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)" /opt/java/openjdk; \
    /opt/java/openjdk/bin/java -version; \
    /opt/java/openjdk/bin/java -version 2>&1 | grep -q "version \"$VERSION[.\"]" || { echo "java is not $VERSION" >&2; exit 1; }
ENV JAVA_HOME=/opt/java/openjdk \
    LANG=C.UTF-8 \
    PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
