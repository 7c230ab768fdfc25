FROM debian:bookworm-slim
RUN useradd --create-home --uid 1001 app
COPY --chown=app:app messages/ /opt/app/messages/
COPY --chown=app:app greet.sh /opt/app/greet.sh
USER app
CMD ["/opt/app/greet.sh"]
