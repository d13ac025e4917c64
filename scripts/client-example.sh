#!/usr/bin/env bash
# scripts/client-example.sh: submit → poll → fetch against `lsq serve` with curl.
#   lsq serve --port 8080 --data-dir ./lsq-data [--token T]      (in another terminal)
#   LSQ_URL=http://127.0.0.1:8080 LSQ_TOKEN=T scripts/client-example.sh
# Solves min ½‖y − A·x‖² for a 4 × 2 A sent as JSON, then the same A uploaded as a Matrix Market file.
set -euo pipefail
url="${LSQ_URL:-http://127.0.0.1:8080}"
auth=()
[ -n "${LSQ_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $LSQ_TOKEN")
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# 1. Submit a JSON problem (COO, 0-based). The answer is 202 with the job and a Location header.
job=$(curl -sS --fail-with-body "${auth[@]}" -H 'Content-Type: application/json' "$url/v1/jobs" --data '{
  "A": {"format": "coo", "shape": [4, 2], "rows": [0, 1, 2, 3, 3], "cols": [0, 1, 0, 0, 1], "values": [1, 1, 1, 1, 1]},
  "y": [1, 2, 3, 4],
  "options": {"solver": "lsqr", "tol": 1e-10}
}')
id=$(echo "$job" | field "['id']")
echo "submitted $id"

# 2. Poll: ?wait=N answers as soon as the job is finished (or after N seconds).
for _ in $(seq 1 30); do
  status=$(curl -sS "${auth[@]}" "$url/v1/jobs/$id?wait=5" | field "['status']")
  echo "status: $status"
  case "$status" in succeeded|failed|cancelled|interrupted) break ;; esac
done

# 3. Fetch x: JSON dense (default), sparse JSON, Matrix Market or .npy by Accept (or ?format=dense|sparse|mtx|npy).
curl -sS "${auth[@]}" "$url/v1/jobs/$id" | python3 -m json.tool
if [ "$status" = succeeded ]; then
  curl -sS "${auth[@]}" "$url/v1/jobs/$id/solution"; echo
  curl -sS "${auth[@]}" -H 'Accept: application/vnd.lsq.sparse+json' "$url/v1/jobs/$id/solution"; echo
  curl -sS "${auth[@]}" -H 'Accept: text/x-matrix-market' "$url/v1/jobs/$id/solution"
fi

# 4. The same A as a Matrix Market upload, y as a second part, options as JSON (curl sends Expect: 100-continue for large files).
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '%%%%MatrixMarket matrix coordinate real general\n4 2 5\n1 1 1\n2 2 1\n3 1 1\n4 1 1\n4 2 1\n' > "$tmp/A.mtx"
printf '1\n2\n3\n4\n' > "$tmp/y.txt"
upload=$(curl -sS --fail-with-body "${auth[@]}" -F "A=@$tmp/A.mtx;type=text/x-matrix-market" -F "y=@$tmp/y.txt" \
  -F 'options={"solver": "lsqr"};type=application/json' "$url/v1/jobs")
id2=$(echo "$upload" | field "['id']")
curl -sS "${auth[@]}" "$url/v1/jobs/$id2?wait=10" | field "['status']"

# 5. Cancel (a queued job stops at once, a running one at its next iteration), list, metrics.
curl -sS "${auth[@]}" -X DELETE "$url/v1/jobs/$id2" | python3 -c "import json,sys; d=json.load(sys.stdin); print('cancel:', d.get('status') or d['error']['message'])"
curl -sS "${auth[@]}" "$url/v1/jobs?limit=5" | field "['total']"
curl -sS "${auth[@]}" "$url/metrics" | grep '^lsq_jobs{' || true
