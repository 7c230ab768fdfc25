echo tracing
