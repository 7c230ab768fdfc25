FROM python:3.11-slim AS build
WORKDIR /build
COPY build.py .
COPY content/ content/
RUN python3 build.py content /out

FROM nginx:stable
COPY --from=build /out/ /usr/share/nginx/html/
EXPOSE 80
