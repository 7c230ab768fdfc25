FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements.txt
COPY sizes/ sizes/
USER nobody
CMD ["python", "-m", "sizes"]
