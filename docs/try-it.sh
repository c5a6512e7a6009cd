#!/usr/bin/env bash
# A guided tour of a running Quizmesh (start it first with `npm start`):
#   bash docs/try-it.sh [gateway-url]
# An admin publishes a quiz, two players take it, and the leaderboard, profiles and inboxes
# update through events. Only curl and node are needed (node reads the JSON answers).
set -euo pipefail
GW=${1:-http://127.0.0.1:8080}
RUN=$(date +%s)
PASSWORD='correct horse battery staple'
# json EXPR: evaluates EXPR with `v` = the JSON on stdin, prints the result
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(eval(process.argv[1]))})' "$1"; }
call() { # method path [token] [json-body]
  local args=(-sS -X "$1" "$GW$2" -H 'accept: application/json')
  [ -n "${3:-}" ] && args+=(-H "authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-H 'content-type: application/json' -d "$4")
  curl "${args[@]}"
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
register() { call POST /api/v1/auth/register '' "{\"email\":\"$1\",\"displayName\":\"$2\",\"password\":\"$PASSWORD\"}" >/dev/null; }
login() { call POST /api/v1/auth/login '' "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" | json v.accessToken; }

step "status of every service"
call GET /api/v1/status | json 'v.services.map((s) => `${s.appId}: ${s.status}`).join("\n")'

step "the local admin (npm start makes admin@quizmesh.local an admin when it registers)"
register admin@quizmesh.local Admin || true
ADMIN=$(login admin@quizmesh.local)

step "admin creates and publishes a quiz"
QUIZ=$(call POST /api/v1/quizzes "$ADMIN" '{"title":"Capitals '"$RUN"'","difficulty":"easy","timeLimitSeconds":300,"tags":["geography"],
  "questions":[{"type":"single","text":"Capital of France?","points":2,"options":[{"text":"Paris","correct":true},{"text":"Lyon","correct":false}]},
               {"type":"single","text":"Capital of Japan?","points":2,"options":[{"text":"Osaka","correct":false},{"text":"Tokyo","correct":true}]}]}' | json v.id)
call POST "/api/v1/quizzes/$QUIZ/publish" "$ADMIN" | json '`quiz ${v.id} is ${v.status}`'

play() { # email name "[option index per question]"  → prints the player's token
  register "$1" "$2"
  local token started answers attempt
  token=$(login "$1")
  started=$(call POST "/api/v1/quizzes/$QUIZ/attempts" "$token")
  attempt=$(echo "$started" | json v.attempt.id)
  answers=$(echo "$started" | json "JSON.stringify({ answers: v.quiz.questions.map((q, i) => ({ questionId: q.id, optionIds: [q.options[$3[i]].id] })) })")
  call POST "/api/v1/attempts/$attempt/submit" "$token" "$answers" | json "\`  $2: attempt \${v.attemptId} \${v.status}\`" >&2
  echo "$token"
}
step "alice answers both questions right, bob one"
ALICE=$(play "alice.$RUN@example.com" "Alice $RUN" '[0,1]')
BOB=$(play "bob.$RUN@example.com" "Bob $RUN" '[1,1]')

step "the quiz's leaderboard (scored asynchronously: quiz.completed → evaluation → leaderboard)"
for _ in $(seq 1 40); do
  BOARD=$(call GET "/api/v1/leaderboards/quiz/$QUIZ" "$ALICE")
  [ "$(echo "$BOARD" | json v.entries.length)" -ge 2 ] && break
  sleep 0.5
done
echo "$BOARD" | json 'v.entries.map((e) => `${e.rank}. ${e.displayName ?? e.userId}  ${e.score} points`).join("\n")'

step "alice's profile (score.calculated → identity)"
call GET /api/v1/users/me "$ALICE" | json 'JSON.stringify(v.stats)'

step "alice's inbox (user.registered and score.calculated → notification)"
call GET /api/v1/notifications "$ALICE" | json '(v.items ?? v.entries ?? v.notifications ?? []).map((n) => `- ${n.title}`).join("\n")'

step "follow live leaderboard updates and your notifications (Ctrl-C to stop):"
echo "curl -N -H 'authorization: Bearer $BOB' $GW/api/v1/stream"
