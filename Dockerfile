# strongroom: the S3-compatible encrypting object store, on Node.js 24 (the LTS line CI tests besides the machine's Node).
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY . .
# The data directory is a volume owned by the unprivileged `node` user of the image.
RUN mkdir -p /data && chown node:node /data
USER node
ENV STRONGROOM_HOST=0.0.0.0 \
    STRONGROOM_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 9000 9443
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9000/health/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# What `npm start` runs, as PID 1 itself, so SIGTERM reaches the server (graceful shutdown)
# instead of stopping at npm.
ENTRYPOINT ["node", "bin/strongroom.js"]
CMD ["server"]
