# One image for both services; compose picks the entrypoint file with `command`.
#   docker build -t weighted-log-distributor .
#   docker run -p 6000:6000 -e ANALYZERS=http://host.docker.internal:5000 weighted-log-distributor
#   docker run -p 5000:5000 -e PORT=5000 weighted-log-distributor run analyzer.ts

# The stage the others build on; compose.test.yaml runs this one with the repository mounted.
FROM oven/bun:1 AS base
WORKDIR /home/bun/app
# The distributor's spool (SPOOL_DIR): a folder the bun user may write, to mount a volume on.
RUN mkdir -p /data && chown bun:bun /data
# Exec form: Bun is PID 1 and gets SIGTERM itself, so `docker stop` drains the distributor's queue.
ENTRYPOINT ["bun"]

FROM base AS deps
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

FROM base AS app
ENV NODE_ENV=production
ENV SPOOL_DIR=/data/spool
COPY --from=deps /home/bun/app/node_modules ./node_modules
COPY package.json bun.lock bunfig.toml tsconfig.json distributor.ts analyzer.ts ./
COPY src ./src
USER bun
EXPOSE 5000 6000
# No curl in the image: Bun itself asks /health on the port the service listens on (PORT; the
# distributor's 6000 when unset — compose sets PORT for both services). No spaces in the script:
# podman 4.x re-splits CMD arguments on spaces.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||6000)+'/health',{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["run", "distributor.ts"]
