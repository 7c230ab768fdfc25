FROM node:18-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY src ./src
RUN npm run build

FROM node:18-slim
WORKDIR /app
COPY --from=build /app/out/ out/
USER node
CMD ["node", "out/tip.min.js"]
