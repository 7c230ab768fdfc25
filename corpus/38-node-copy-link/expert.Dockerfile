FROM node:18-slim
WORKDIR /app
COPY --link package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --link index.js .
USER node
CMD ["node", "index.js"]
