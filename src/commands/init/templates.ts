export const CONFIG_TEMPLATE = `# routergpt.config.yaml — environments for the routergpt CLI and API server.
# Precedence for every value: command-line flag > environment variable (.env is read) > this file > built-in default.
# Secrets never go here: database URLs and API keys come from environment variables.
version: 1
default_env: local

environments:
  local:
    # PostgreSQL compiled to WebAssembly, kept under .routergpt/local/ — needs nothing but npm install.
    database: embedded
    public_api_base: http://127.0.0.1:8787
    allow_test_bookings: true

  staging:
    database:
      url_env: DATABASE_URL
    public_api_base: https://staging-api.yourdomain.com
    allowed_origins:
      - https://staging.yourdomain.com
      - https://chat.openai.com
      - https://chatgpt.com
    rate_limits:
      search_per_minute: 20
      delegate_per_minute: 10
    allow_test_bookings: true

  prod:
    database:
      url_env: DATABASE_URL
    protected: true          # destructive actions ask you to type "prod"
    public_api_base: https://api.yourdomain.com
    allowed_origins:
      - https://yourdomain.com
      - https://chat.openai.com
      - https://chatgpt.com
    rate_limits:
      search_per_minute: 20
      delegate_per_minute: 10
    trusted_proxies:
      - 127.0.0.1
    lock_timeout: 5s
    privacy_policy_url: https://yourdomain.com/privacy
    # Geocoding of shops (docs/geocoding.md): offline ZIP centroids unless set; google needs
    # GOOGLE_MAPS_API_KEY, the public nominatim a contact e-mail.
    # geocoding:
    #   provider: [google, offline]
    #   google: { cache_days: 30, qps: 10 }
    backup:
      # Dumps hold every row: keep them out of git — inside the git-ignored .routergpt/, or a path
      # outside the repository (security.backups-not-in-repo checks it before every deploy).
      dir: .routergpt/backups/prod
      retention: 14
    deploy:
      timeout: 300s
      hosts:
        # url: the host's own address (its /health, bypassing the load balancer). Each command
        # gets ROUTERGPT_HOST and ROUTERGPT_HOST_URL too.
        - name: web-1
          via: [ssh, deploy@web-1.yourdomain.com]
          url: http://web-1.yourdomain.com:8787
      # With several hosts: a rolling deploy, host by host, each gated on its own /health
      # reporting the new release; a failed host stops it and rolls back the moved ones (docs/fleet.md).
      # strategy: { batch: 1, pause: 10s, max_fail: 0, gate_timeout: 2m }
      # canary: true makes the first batch one host that bakes under watch for canary_bake first:
      # strategy: { batch: "25%", canary: true, canary_bake: 5m, max_fail: 0 }
      # Each command gets ROUTERGPT_RELEASE (the release being deployed: --release, else
      # git describe); --update-env hands it to the server, whose /health reports it as "version"
      # (api.wait-healthy waits for it). Rollback commands also get ROUTERGPT_ROLLBACK_RELEASE:
      # the release of the last deploy that succeeded before the one being undone.
      commands:
        - git pull origin main
        - npm ci
        - pm2 restart routergpt --update-env
      rollback_commands:
        - git checkout "$ROUTERGPT_ROLLBACK_RELEASE"
        - npm ci
        - ROUTERGPT_RELEASE="$ROUTERGPT_ROLLBACK_RELEASE" pm2 restart routergpt --update-env
      # Or releases side by side (docs/fleet.md#releases-side-by-side): each host keeps
      # <path>/releases/<release>/ and a current symlink; the commands run inside the new release's
      # directory, then routergpt switches current and runs restart; the code rollback switches
      # current back and restarts (seconds, no rebuild). Replaces commands/rollback_commands above:
      # layout: releases
      # path: /srv/routergpt
      # keep_releases: 5
      # commands:
      #   - git clone --depth 1 --branch "$ROUTERGPT_RELEASE" git@github.com:you/routergpt.git . && npm ci
      # restart: ROUTERGPT_RELEASE="$ROUTERGPT_RELEASE" pm2 startOrRestart ecosystem.config.cjs --update-env
`;

export const ENV_EXAMPLE_TEMPLATE = `# Copy to .env (git-ignored) and fill in. Real environment variables win over .env.

# Production database (staging/prod; local uses the embedded database)
DATABASE_URL=postgresql://user:password@db.yourdomain.com:5432/routergpt

# OpenAI API key (without it the offline booking assistant answers)
OPENAI_API_KEY=sk-...

# Optional: Google Geocoding API key, used when geocoding.provider in routergpt.config.yaml
# names google (docs/geocoding.md); a secret, never printed. The default provider is offline.
GOOGLE_MAPS_API_KEY=
# Optional: other endpoints (a test server, your own Nominatim; the public one needs
# geocoding.nominatim.email)
# GOOGLE_GEOCODING_URL=https://maps.googleapis.com/maps/api/geocode/json
# NOMINATIM_URL=https://nominatim.openstreetmap.org

# Production domain
PUBLIC_API_BASE=https://api.yourdomain.com
ALLOWED_ORIGINS=https://yourdomain.com,https://chat.openai.com,https://chatgpt.com

# Optional: Redis for rate limits shared by several servers
REDIS_URL=redis://127.0.0.1:6379

# Optional: Bearer API key the Custom GPT must send
ROUTERGPT_API_KEY=

# Feature toggle (the runtime flag in the database can also turn the router off)
ENABLE_ROUTER_GPT=true

# Email (if using)
RESEND_API_KEY=
RESEND_FROM=noreply@yourdomain.com
`;

/**
 * What `routergpt init` makes sure .gitignore holds: everything routergpt writes under the project
 * by default. `.routergpt/` is the state dir — run journals and run directories (purge records,
 * kept writes, the local API's server.log), locks, the embedded database and the default backup
 * directory `.routergpt/backups/<env>`. Backup or data directories the config file puts elsewhere
 * in the project are added to these by init.
 */
export const GITIGNORE_ENTRIES = ['.env', '.routergpt/'] as const;

/** The comment init writes above the lines it appends. */
export const GITIGNORE_COMMENT = '# routergpt: secrets, run journals, backups (routergpt init)';
