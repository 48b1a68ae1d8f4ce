#!/bin/sh
# The demo load: one round of calls a second through the frontend, so each dashboard panel has
# data: GETs, a POST with a body, a 404, a 503, a slow call, and the HTTPS endpoint both through
# the frontend and directly.
while true; do
  curl -s -o /dev/null http://frontend/
  curl -s -o /dev/null "http://frontend/api/get?user=demo&page=2"
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"item":42}' http://frontend/api/post
  curl -s -o /dev/null http://frontend/api/status/404
  curl -s -o /dev/null http://frontend/api/status/503
  curl -s -o /dev/null http://frontend/api/delay/1
  curl -s -o /dev/null http://frontend/secure/orders/17
  curl -s -o /dev/null -k https://https-echo:8443/orders/18
  sleep 1
done
