FROM node:18-slim
WORKDIR /app
COPY package.json yarn.lock ./
RUN yarn install --frozen-lockfile --production && yarn cache clean
COPY index.js .
USER node
CMD ["node", "index.js"]
