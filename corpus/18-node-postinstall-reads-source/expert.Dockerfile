FROM node:18-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/ scripts/
COPY src/banner.txt src/banner.txt
RUN npm ci && npm cache clean --force
COPY src/ src/
USER node
CMD ["node", "src/main.js"]
