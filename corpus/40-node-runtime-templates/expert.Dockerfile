FROM node:18-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY scripts/ scripts/
COPY src/ src/
RUN npm run build

FROM node:18-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force
COPY config/ config/
COPY templates/ templates/
COPY --from=build /app/out/ out/
USER node
CMD ["node", "out/report.js"]
