#!/usr/bin/env bash
# shellcheck disable=SC2016 # JavaScript template literals in single quotes, evaluated by node
# End-to-end smoke test of a Quizmesh install on any Kubernetes cluster, through the gateway only:
# an admin publishes a quiz, a player registers, opens the live stream (SSE), takes the quiz, and
# the stream must deliver the quiz leaderboard ranking that player (quiz.completed -> evaluation
# -> leaderboard.updated -> gateway). Exits non-zero, naming the step, when anything fails.
#
#   bash docs/cluster-smoke.sh                  # port-forwards svc/quizmesh-gateway itself
#   bash docs/cluster-smoke.sh http://host:8080 # or an existing URL (Ingress, port-forward)
#
# The admin account: ADMIN_EMAIL (default admin@quizmesh.local) must be the chart's
# IDENTITY_BOOTSTRAP_ADMIN_EMAIL (docs/kind-install.sh sets it), or an existing admin with
# ADMIN_PASSWORD. Needs bash, curl, kubectl (without a URL) and node (JSON parsing).
set -euo pipefail
NAMESPACE=${NAMESPACE:-quizmesh}
ADMIN_EMAIL=${ADMIN_EMAIL:-admin@quizmesh.local}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-'correct horse battery staple'}
PASSWORD='correct horse battery staple'
RUN=$(date +%s)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() {
  printf 'FAILED: %s\n' "$*" >&2
  exit 1
}
# json EXPR: evaluates EXPR with `v` = the JSON on stdin and prints the result
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(eval(process.argv[1]))})' "$1"; }
# call METHOD PATH [TOKEN] [JSON-BODY]: prints the body; fails on HTTP >= 400 unless ALLOW matches
call() {
  local args=(-sS -o "$WORK/body" -w '%{http_code}' -X "$1" "$GW$2" -H 'accept: application/json')
  [ -n "${3:-}" ] && args+=(-H "authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-H 'content-type: application/json' -d "$4")
  local code
  code=$(curl "${args[@]}") || fail "$1 $2: no answer from $GW"
  if [ "$code" -ge 400 ] && [[ ! "$code" =~ ^(${ALLOW:-none})$ ]]; then
    fail "$1 $2 answered $code: $(cat "$WORK/body")"
  fi
  cat "$WORK/body"
}
# eventually DESCRIPTION SECONDS COMMAND...: retries COMMAND every second until it succeeds
eventually() {
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq 1 "$seconds"); do
    if ("$@") >/dev/null 2>&1; then return 0; fi # a subshell: a failed call must not end the script
    sleep 1
  done
  fail "$what (not within ${seconds} s)"
}

GW=${1:-}
if [ -z "$GW" ]; then
  step "port-forward svc/quizmesh-gateway (namespace $NAMESPACE)"
  kubectl -n "$NAMESPACE" port-forward svc/quizmesh-gateway 18080:8080 >"$WORK/port-forward.log" 2>&1 &
  PIDS+=($!)
  GW=http://127.0.0.1:18080
  eventually "port-forward to the gateway" 30 curl -fsS "$GW/healthz"
fi

step "every service ready behind the gateway ($GW)"
all_ready() { call GET /api/v1/status | json 'v.services.every((s) => s.status === "ready") || process.exit(1)'; }
eventually "GET /api/v1/status reports every service ready" 180 all_ready
call GET /api/v1/status | json 'v.services.map((s) => `${s.appId}: ${s.status}`).join("\n")'

step "admin $ADMIN_EMAIL publishes a quiz"
ALLOW=409 call POST /api/v1/auth/register '' "{\"email\":\"$ADMIN_EMAIL\",\"displayName\":\"Admin\",\"password\":\"$ADMIN_PASSWORD\"}" >/dev/null
ADMIN=$(call POST /api/v1/auth/login '' "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | json v.accessToken)
QUIZ=$(call POST /api/v1/quizzes "$ADMIN" '{"title":"Smoke '"$RUN"'","difficulty":"easy","timeLimitSeconds":300,"tags":["smoke"],
  "questions":[{"type":"single","text":"Capital of France?","points":2,"options":[{"text":"Paris","correct":true},{"text":"Lyon","correct":false}]}]}' | json v.id)
call POST "/api/v1/quizzes/$QUIZ/publish" "$ADMIN" | json '`quiz ${v.id}: ${v.status}`'

step "a player registers and opens the live stream"
EMAIL="smoke.$RUN@example.com"
PLAYER_ID=$(call POST /api/v1/auth/register '' "{\"email\":\"$EMAIL\",\"displayName\":\"Smoke $RUN\",\"password\":\"$PASSWORD\"}" | json v.user.id)
PLAYER=$(call POST /api/v1/auth/login '' "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | json v.accessToken)
curl -sSN "$GW/api/v1/stream" -H 'accept: text/event-stream' -H "authorization: Bearer $PLAYER" >"$WORK/stream" 2>&1 &
PIDS+=($!)
eventually "the stream's ready event" 30 grep -q '^event: ready' "$WORK/stream"

step "the player takes the quiz"
STARTED=$(call POST "/api/v1/quizzes/$QUIZ/attempts" "$PLAYER")
ATTEMPT=$(echo "$STARTED" | json v.attempt.id)
ANSWERS=$(echo "$STARTED" | json 'JSON.stringify({ answers: v.quiz.questions.map((q) => ({ questionId: q.id, optionIds: [q.options[0].id] })) })')
call POST "/api/v1/attempts/$ATTEMPT/submit" "$PLAYER" "$ANSWERS" | json '`attempt ${v.attemptId}: ${v.status}`'

step "the stream delivers the quiz leaderboard ranking the player"
# One SSE frame per blank-line-separated block; look for a leaderboard frame of this quiz with the player.
ranked() {
  QUIZ=$QUIZ PLAYER_ID=$PLAYER_ID node -e '
    const frames = require("fs").readFileSync(process.argv[1], "utf8").split("\n\n");
    const hit = frames.some((frame) => {
      if (!/^event: leaderboard$/m.test(frame)) return false;
      const data = JSON.parse(frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n"));
      return data.board === "quiz" && data.quizId === process.env.QUIZ && data.top.some((t) => t.userId === process.env.PLAYER_ID);
    });
    process.exit(hit ? 0 : 1);' "$WORK/stream"
}
eventually "a leaderboard event of quiz $QUIZ ranking player $PLAYER_ID on the stream" 90 ranked
call GET "/api/v1/leaderboards/quiz/$QUIZ" "$PLAYER" | json 'v.entries.map((e) => `${e.rank}. ${e.displayName ?? e.userId}  ${e.score}`).join("\n")'

printf '\nPASSED: register, publish, attempt and live leaderboard through the gateway\n'
