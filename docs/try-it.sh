#!/usr/bin/env bash
# A guided tour of a running Quizmesh (start it first with `npm start`):
#   bash docs/try-it.sh [gateway-url]
# An admin publishes a quiz, two players take it, and the leaderboard, profiles and inboxes
# update through events. Only curl and node are needed (node reads the JSON answers).
# Re-runnable: the accounts are signed in when they exist (registered the first time only), and
# every run publishes a new quiz. Any answer other than 2xx stops the tour with that answer
# (exit status 1).
set -euo pipefail
shopt -s inherit_errexit
GW=${1:-http://127.0.0.1:8080}
RUN=$(date +%s)
PASSWORD='correct horse battery staple'
BODY=$(mktemp)
trap 'rm -f "$BODY"' EXIT

# json EXPR: evaluates EXPR with `v` = the JSON on stdin, prints the result
# (no input: a failed call upstream already said why; exit quietly)
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{if(!s)process.exit(1);const v=JSON.parse(s);console.log(eval(process.argv[1]))})' "$1"; }
fail() { # method path status: says what failed, with the problem the gateway answered
  printf '\ntry-it: %s %s answered %s\n' "$1" "$2" "$3" >&2
  cat "$BODY" >&2
  echo >&2
  exit 1
}
# request method path [token] [json-body]: the status code; the body is left in $BODY
request() {
  local args=(-sS -X "$1" "$GW$2" -H 'accept: application/json' -o "$BODY" -w '%{http_code}')
  [ -n "${3:-}" ] && args+=(-H "authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-H 'content-type: application/json' -d "$4")
  curl "${args[@]}" || { echo "try-it: $1 $2: no answer from $GW (is npm start running?)" >&2; exit 1; }
}
# call method path [token] [json-body]: prints the body of a 2xx answer; anything else stops the tour
call() {
  local status
  status=$(request "$@")
  [[ $status == 2* ]] || fail "$1" "$2" "$status"
  cat "$BODY"
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# token email name: signs in, or registers the account when there is none yet; prints the access token
token() {
  local status
  status=$(request POST /api/v1/auth/login '' "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}")
  case $status in
    200) json v.accessToken <"$BODY" ;;
    401) call POST /api/v1/auth/register '' "{\"email\":\"$1\",\"displayName\":\"$2\",\"password\":\"$PASSWORD\"}" |
      json v.tokens.accessToken ;;
    *) fail POST /api/v1/auth/login "$status" ;;
  esac
}

step "status of every service"
call GET /api/v1/status | json 'v.services.map((s) => `${s.appId}: ${s.status}`).join("\n")'

step "the local admin (npm start makes admin@quizmesh.local an admin when it registers)"
ADMIN=$(token admin@quizmesh.local Admin)

step "admin creates and publishes a quiz"
QUIZ=$(call POST /api/v1/quizzes "$ADMIN" '{"title":"Capitals '"$RUN"'","difficulty":"easy","timeLimitSeconds":300,"tags":["geography"],
  "questions":[{"type":"single","text":"Capital of France?","points":2,"explanation":"Paris has been the capital since 987.","options":[{"text":"Paris","correct":true},{"text":"Lyon","correct":false}]},
               {"type":"single","text":"Capital of Japan?","points":2,"explanation":"Tokyo (formerly Edo) since 1868.","options":[{"text":"Osaka","correct":false},{"text":"Tokyo","correct":true}]}]}' | json v.id)
call POST "/api/v1/quizzes/$QUIZ/publish" "$ADMIN" | json '`quiz ${v.id} is ${v.status}`'

play() { # token name "[option index per question]" → prints the attempt id
  local started attempt answers
  started=$(call POST "/api/v1/quizzes/$QUIZ/attempts" "$1")
  attempt=$(echo "$started" | json v.attempt.id)
  answers=$(echo "$started" | json "JSON.stringify({ answers: v.quiz.questions.map((q, i) => ({ questionId: q.id, optionIds: [q.options[$3[i]].id] })) })")
  call POST "/api/v1/attempts/$attempt/submit" "$1" "$answers" | json "\`  $2: attempt \${v.attemptId} \${v.status}\`" >&2
  echo "$attempt"
}
step "alice answers both questions right, bob one"
ALICE=$(token alice@example.com Alice)
BOB=$(token bob@example.com Bob)
ALICE_ATTEMPT=$(play "$ALICE" Alice '[0,1]')
play "$BOB" Bob '[1,1]' >/dev/null

step "the quiz's leaderboard, no token needed (scored asynchronously: quiz.completed → evaluation → leaderboard)"
for _ in $(seq 1 40); do
  BOARD=$(call GET "/api/v1/leaderboards/quiz/$QUIZ")
  [ "$(echo "$BOARD" | json v.entries.length)" -ge 2 ] && break
  sleep 0.5
done
[ "$(echo "$BOARD" | json v.entries.length)" -ge 2 ] || { echo "try-it: the attempts were not ranked within 20 s" >&2; exit 1; }
echo "$BOARD" | json 'v.entries.map((e) => `${e.rank}. ${e.displayName ?? e.userId}  ${e.score} points`).join("\n")'

step "alice's review: each question with the right option and the explanation (409 until scored)"
for _ in $(seq 1 40); do
  STATUS=$(request GET "/api/v1/attempts/$ALICE_ATTEMPT/review" "$ALICE")
  [ "$STATUS" = 409 ] || break
  sleep 0.5
done
[[ $STATUS == 2* ]] || fail GET "/api/v1/attempts/$ALICE_ATTEMPT/review" "$STATUS"
json 'v.questions.map((q) => `${q.text} ${q.correct ? "right" : "wrong"} (+${q.pointsAwarded}): ${q.explanation}`).join("\n")' <"$BODY"

step "this week's leaderboard (the server knows the week)"
call GET /api/v1/leaderboards/weekly/current | json '`${v.board.isoWeek}: ${v.entries.slice(0, 3).map((e) => `${e.displayName} ${e.score}`).join(", ")}`'

step "alice's profile (score.calculated → identity)"
call GET /api/v1/users/me "$ALICE" | json 'JSON.stringify(v.stats)'

step "alice's inbox (user.registered and score.calculated → notification)"
call GET /api/v1/notifications "$ALICE" | json 'v.items.slice(0, 5).map((n) => `- ${n.title}`).join("\n")'

step "follow live leaderboard updates and your notifications (Ctrl-C to stop):"
echo "curl -N -H 'authorization: Bearer $BOB' $GW/api/v1/stream"
