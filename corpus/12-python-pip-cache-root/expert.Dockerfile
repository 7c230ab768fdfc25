FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY slugs.py .
USER nobody
CMD ["python", "slugs.py"]
