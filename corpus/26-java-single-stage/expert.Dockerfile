FROM eclipse-temurin:17-jdk AS build
WORKDIR /app
COPY src/ src/
RUN javac -d classes src/main/java/demo/*.java \
    && jar --create --file app.jar --main-class demo.Main -C classes .

FROM eclipse-temurin:17-jre
WORKDIR /app
COPY --from=build /app/app.jar /app/app.jar
USER nobody
CMD ["java", "-jar", "/app/app.jar"]
