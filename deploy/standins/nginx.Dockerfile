# Stand-in for nginx:1.27-alpine from Debian bookworm's nginx, used only where Docker Hub
# cannot be reached. Like the official image: /etc/nginx/conf.d/default.conf is the site
# (inside the http block), wget is there for health checks, nginx runs in the foreground.
FROM xoobay-standin/bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx-light wget \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
