#!/usr/bin/env bash
# The examples of tools/examples/ (issue 6, items 7 and 8), two modes:
#
#   api_examples_test.sh wire DIR   each example alone over the software RSS
#                                   wire (its built-in peer verifies every
#                                   byte; exit 0), and bad flags (exit 2 with
#                                   a message)
#   api_examples_test.sh tap DIR    the examples on a multi_queue tap in a
#                                   network namespace this script creates and
#                                   removes (root), against Linux's clients,
#                                   over IPv4 and IPv6:
#       inc-httpd  <- curl (several requests on one keep-alive connection,
#                     bodies compared by sha256 with awk's rendering of the
#                     stream, a 404; HTTP/1.0; 8 clients at once), wget (body by sha256, a 404), nc (a
#                     malformed request gets 400 and the connection closes)
#       inc-echo   <- nc (a line; an 8 MiB random file there and back,
#                     compared with cmp and sha256; 3 transfers of 2 MiB at
#                     once)
#       inc-client -> Linux servers (python3's http.server serving files of
#                     the stream; a python3 echo server); and must fail
#                     when one byte of a served file is changed
#
# DIR holds inc-echo, inc-httpd and inc-client. Addresses: 198.18.0.0/15 and
# 2001:2::/48 only (RFC 5180's benchmarking ranges). Any difference in any
# byte fails the test. Exit: 0 pass, 1 fail, 77 skipped (not root).
set -u

mode=${1:-}
dir=${2:-}
if [[ "$mode" != wire && "$mode" != tap ]] || [[ ! -x "$dir/inc-httpd" ]]; then
  echo "usage: $0 wire|tap DIR-WITH-THE-EXAMPLES" >&2
  exit 1
fi
echo_bin="$dir/inc-echo"
httpd_bin="$dir/inc-httpd"
client_bin="$dir/inc-client"
failures=0
work=$(mktemp -d /tmp/inc-examples.XXXXXX)

pass() { echo "PASS: $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# run NAME EXPECTED-EXIT CMD...: runs a command with a time limit (a hang is
# a failure, not a timing assertion) and checks its exit status
run() {
  local name=$1 want=$2
  shift 2
  timeout -k 5 120 "$@" >"$work/out.txt" 2>&1
  local rc=$?
  if [[ $rc -eq $want ]]; then
    pass "$name (exit $rc): $(grep -v '^EAL' "$work/out.txt" | tail -n 1)"
  else
    fail "$name: exit $rc, expected $want"
    grep -v '^EAL' "$work/out.txt" | tail -n 20
  fi
}

# ---- wire mode ---------------------------------------------------------------
if [[ $mode == wire ]]; then
  run "inc-echo over the wire (4 connections x 2 MB, IPv4 and IPv6)" 0 "$echo_bin" --conns 4 --bytes 2000000
  run "inc-httpd over the wire (checks + 1000 keep-alive requests)" 0 "$httpd_bin" --requests 1000 --conns 6
  run "inc-client over the wire, HTTP" 0 "$client_bin" --requests 600 --conns 4 --sizes 0,5,1000,70000,1048576
  run "inc-client over the wire, echo" 0 "$client_bin" --proto echo --conns 3 --bytes 1500000
  # bad flags: exit 2 and a message that names the problem
  badflag() {
    local want=$1
    shift
    timeout 30 "$@" >"$work/bad.txt" 2>&1
    local rc=$?
    if [[ $rc -eq 2 ]] && grep -q -- "$want" "$work/bad.txt"; then
      pass "bad usage '$*' -> exit 2: $(head -n 1 "$work/bad.txt")"
    else
      fail "bad usage '$*': exit $rc, output: $(cat "$work/bad.txt")"
    fi
  }
  badflag "unknown option" "$httpd_bin" --nonsense
  badflag "workers wants 1..4" "$echo_bin" --workers 9
  badflag "needs our address" "$httpd_bin" --tap sometap
  badflag "ip wants an IPv4" "$echo_bin" --tap t --ip 300.1.1.1/24
  badflag "needs --server" "$client_bin" --tap t --ip 198.18.0.2/24
  badflag "not one of this program" "$echo_bin" --requests 5
  badflag "port wants" "$httpd_bin" --port 70000
  if "$httpd_bin" --help | grep -q -- "--tap IF"; then pass "--help"; else fail "--help"; fi
  rm -rf "$work"
  echo "api_examples wire: $failures failure(s)"
  [[ $failures -eq 0 ]]
  exit
fi

# ---- tap mode ------------------------------------------------------------------
if [[ $EUID -ne 0 ]]; then
  echo "SKIP: the tap tests need root (network namespaces, tap devices)"
  rm -rf "$work"
  exit 77
fi
for tool in ip curl wget nc python3 sha256sum cmp awk; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL: $tool is missing (tools/install-deps.sh installs it)"
    exit 1
  fi
done

# namespaces of earlier runs whose process is gone
for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^incex[0-9]*$'); do
  [[ -d /proc/${n#incex} ]] || ip netns del "$n" 2>/dev/null
done

ns="incex$$"
tap="iex$(($$ % 1000000))"
sub=$((150 + $$ % 50))
hexsub=$(printf '%x' "$sub")
lin4="198.18.$sub.1" our4="198.18.$sub.2"
lin6="2001:2:0:$hexsub::1" our6="2001:2:0:$hexsub::2"
server_pid=""
py_pid=""

cleanup() {
  [[ -n "$server_pid" ]] && kill -KILL "$server_pid" 2>/dev/null
  [[ -n "$py_pid" ]] && kill -KILL "$py_pid" 2>/dev/null
  wait 2>/dev/null
  ip -n "$ns" tuntap del mode tap multi_queue name "$tap" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

setup=(
  "ip netns add $ns"
  "ip -n $ns link set lo up"
  "ip -n $ns tuntap add mode tap multi_queue name $tap"
  "ip netns exec $ns sysctl -q -w net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.$tap.accept_dad=0 net.ipv6.conf.$tap.router_solicitations=0 net.ipv6.conf.$tap.accept_ra=0 net.ipv6.conf.$tap.keep_addr_on_down=1"
  "ip -n $ns addr add $lin4/24 dev $tap"
  "ip -n $ns addr add $lin6/64 dev $tap nodad"
  "ip -n $ns link set $tap up"
)
for c in "${setup[@]}"; do
  if ! $c; then
    echo "FAIL: set-up: $c"
    exit 1
  fi
done
inns() { ip netns exec "$ns" "$@"; }

# Before each program: the tap PMD sets the link down when a program ends,
# and Linux then drops the tap's IPv6 addresses; the next program has
# another MAC address. Put the address back and forget the neighbours.
prep_link() {
  ip -n "$ns" addr replace "$lin6/64" dev "$tap" nodad
  ip -n "$ns" neigh flush dev "$tap"
  ip -n "$ns" link set "$tap" up
}

# start_server NAME BIN ARGS...: the example on the tap, in the namespace;
# waits for its "ready" line
start_server() {
  local name=$1
  shift
  prep_link
  # not through a shell function: $! must be the program itself (ip netns
  # exec execs it), so that SIGTERM reaches it
  ip netns exec "$ns" "$@" --tap "$tap" --ip "$our4/24" --ip6 "$our6/64" >"$work/$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    if grep -q ": ready:" "$work/$name.log" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  fail "$name did not start"
  grep -v '^EAL' "$work/$name.log" | tail -n 20
  return 1
}

# stop_server NAME: SIGTERM, then its exit status must be 0
stop_server() {
  local name=$1 rc
  kill -TERM "$server_pid"
  for _ in $(seq 1 300); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid"
    fail "$name did not stop at SIGTERM"
  fi
  wait "$server_pid"
  rc=$?
  server_pid=""
  if [[ $rc -eq 0 ]]; then
    pass "$name stopped: $(grep -v '^EAL' "$work/$name.log" | tail -n 2 | tr '\n' ' ')"
  else
    fail "$name exited $rc"
    grep -v '^EAL' "$work/$name.log" | tail -n 20
  fi
}

# the first N bytes of the stream (ex_common.h), rendered by awk, not by us
expected() {
  awk -v n="$1" 'BEGIN { for (k = 0; k * 16 < n; k++) printf "%015x\n", k }' | head -c "$1"
}
sum() { sha256sum | cut -d' ' -f1; }

# ---- inc-httpd <- curl, wget, nc ------------------------------------------------
if start_server httpd "$httpd_bin" --port 8080; then
  sizes=(0 1 1000 70000 3000000)
  for s in "${sizes[@]}"; do expected "$s" >"$work/exp.$s"; done
  for fam in 4 6; do
    if [[ $fam == 4 ]]; then host=$our4 url="http://$our4:8080"; else host=$our6 url="http://[$our6]:8080"; fi
    # curl: every size and a 404 on one keep-alive connection
    args=()
    for s in "${sizes[@]}"; do args+=(-o "$work/curl$fam.$s" "$url/bytes/$s"); done
    args+=(-o "$work/curl$fam.404" "$url/no/such/page")
    if inns timeout 60 curl -sS --http1.1 -w '%{http_code} %{num_connects}\n' "${args[@]}" >"$work/curl$fam.w" 2>&1; then
      codes=$(awk '{print $1}' "$work/curl$fam.w" | tr '\n' ' ')
      connects=$(awk '{s += $2} END {print s}' "$work/curl$fam.w")
      if [[ "$codes" == "200 200 200 200 200 404 " ]]; then pass "curl IPv$fam: statuses $codes"; else fail "curl IPv$fam: statuses $codes"; fi
      if [[ "$connects" == 1 ]]; then
        pass "curl IPv$fam: ${#sizes[@]} requests and a 404 on 1 keep-alive connection"
      else
        fail "curl IPv$fam: $connects connections for one keep-alive session"
      fi
      for s in "${sizes[@]}"; do
        if [[ "$(sum <"$work/curl$fam.$s")" == "$(sum <"$work/exp.$s")" ]]; then
          pass "curl IPv$fam: /bytes/$s sha256 matches"
        else
          fail "curl IPv$fam: /bytes/$s differs ($(stat -c %s "$work/curl$fam.$s") bytes)"
        fi
      done
    else
      fail "curl IPv$fam: $(cat "$work/curl$fam.w")"
    fi
    # HTTP/1.0: the server closes after the response
    if inns timeout 60 curl -sS --http1.0 -D "$work/h10.$fam" -o "$work/b10.$fam" "$url/bytes/70000" &&
      grep -qi '^Connection: close' "$work/h10.$fam" && cmp -s "$work/b10.$fam" "$work/exp.70000"; then
      pass "curl IPv$fam: HTTP/1.0 request: body matches, Connection: close"
    else
      fail "curl IPv$fam: HTTP/1.0 request: $(head -n 1 "$work/h10.$fam" 2>/dev/null)"
    fi
    # 8 clients at once (Linux's tap queue choice spreads them; steering
    # keeps each on the worker that owns it)
    pids=()
    for i in 1 2 3 4 5 6 7 8; do
      inns timeout 60 curl -sS -o "$work/par.$fam.$i" "$url/bytes/1000000" &
      pids+=($!)
    done
    wait "${pids[@]}"
    expected 1000000 >"$work/exp.1000000"
    ok=1
    for i in 1 2 3 4 5 6 7 8; do cmp -s "$work/par.$fam.$i" "$work/exp.1000000" || ok=0; done
    if [[ $ok == 1 ]]; then pass "curl IPv$fam: 8 concurrent clients, every body matches"; else fail "curl IPv$fam: concurrent clients: a body differs"; fi
    # wget: a body and a 404 (wget exits 8 on an HTTP error)
    if inns timeout 60 wget -q -O "$work/wget$fam" "$url/bytes/3000000" &&
      [[ "$(sum <"$work/wget$fam")" == "$(sum <"$work/exp.3000000")" ]]; then
      pass "wget IPv$fam: /bytes/3000000 sha256 matches"
    else
      fail "wget IPv$fam: /bytes/3000000"
    fi
    inns timeout 60 wget -q -O /dev/null "$url/missing"
    rc=$?
    if [[ $rc -eq 8 ]]; then pass "wget IPv$fam: 404 (wget exit 8)"; else fail "wget IPv$fam: a missing page gave exit $rc, not 8"; fi
    # nc: a malformed request gets 400 and the server closes (nc ends)
    printf 'NOT AN HTTP REQUEST\r\n\r\n' | inns timeout 30 nc -N -w 20 "$host" 8080 >"$work/nc400.$fam"
    if head -n 1 "$work/nc400.$fam" | grep -q '^HTTP/1.1 400 ' && grep -qi '^Connection: close' "$work/nc400.$fam"; then
      pass "nc IPv$fam: a malformed request: 400, Connection: close, closed"
    else
      fail "nc IPv$fam: a malformed request: $(head -n 1 "$work/nc400.$fam")"
    fi
  done
  # lines ending in a bare LF: 400 at once (not a wait for CRLF)
  printf 'GET / HTTP/1.1\nHost: x\n\n' | inns timeout 30 nc -N -w 20 "$our4" 8080 >"$work/nclf"
  if head -n 1 "$work/nclf" | grep -q '^HTTP/1.1 400 '; then
    pass "nc: a request with bare LF line ends: 400"
  else
    fail "nc: a request with bare LF line ends: $(head -n 1 "$work/nclf")"
  fi
  stop_server httpd
fi

# ---- inc-echo <- nc ---------------------------------------------------------------
if start_server echo "$echo_bin" --port 7007; then
  head -c $((8 << 20)) /dev/urandom >"$work/bulk.in"
  for i in 1 2 3; do head -c $((2 << 20)) /dev/urandom >"$work/par$i.in"; done
  for fam in 4 6; do
    if [[ $fam == 4 ]]; then host=$our4; else host=$our6; fi
    line="hello from Linux over IPv$fam"
    got=$(echo "$line" | inns timeout 30 nc -N -w 20 "$host" 7007)
    if [[ "$got" == "$line" ]]; then pass "nc IPv$fam: a line echoed"; else fail "nc IPv$fam: line '$got'"; fi
    # bulk: 8 MiB there and back through one connection
    t0=$(date +%s.%N)
    inns timeout 90 nc -N -w 30 "$host" 7007 <"$work/bulk.in" >"$work/bulk.out.$fam"
    t1=$(date +%s.%N)
    rate=$(awk -v a="$t0" -v z="$t1" -v b=$((8 << 20)) 'BEGIN { printf "%.0f", b * 8 / (z - a) / 1e6 }')
    if cmp -s "$work/bulk.in" "$work/bulk.out.$fam" &&
      [[ "$(sum <"$work/bulk.in")" == "$(sum <"$work/bulk.out.$fam")" ]]; then
      pass "nc IPv$fam: 8 MiB random file echoed, cmp and sha256 match ($rate Mbit/s each way, informative)"
    else
      fail "nc IPv$fam: bulk: $(stat -c %s "$work/bulk.out.$fam") of $((8 << 20)) bytes back, $(cmp "$work/bulk.in" "$work/bulk.out.$fam" 2>&1 | head -n 1)"
    fi
    # three at once (connections spread over the workers)
    pids=()
    for i in 1 2 3; do
      inns timeout 90 nc -N -w 30 "$host" 7007 <"$work/par$i.in" >"$work/par$i.out.$fam" &
      pids+=($!)
    done
    wait "${pids[@]}"
    ok=1
    for i in 1 2 3; do cmp -s "$work/par$i.in" "$work/par$i.out.$fam" || ok=0; done
    if [[ $ok == 1 ]]; then pass "nc IPv$fam: 3 concurrent 2 MiB transfers echoed whole"; else fail "nc IPv$fam: concurrent transfers differ"; fi
  done
  stop_server echo
  if grep -q " 0 failed" "$work/echo.log"; then pass "inc-echo: no connection failed"; else fail "inc-echo: $(grep 'inc-echo: server' "$work/echo.log")"; fi
fi

# ---- inc-client -> Linux's servers ---------------------------------------------------
mkdir -p "$work/www/bytes"
for s in 0 1 1460 65536 1000000; do expected "$s" >"$work/www/bytes/$s"; done
ip netns exec "$ns" python3 -m http.server --protocol HTTP/1.1 --bind :: --directory "$work/www" 8081 >"$work/py.log" 2>&1 &
py_pid=$!
up=0
for _ in $(seq 1 100); do
  inns python3 -c "import socket; socket.create_connection(('$lin4', 8081), 1)" 2>/dev/null && up=1 && break
  sleep 0.1
done
[[ $up == 1 ]] || fail "python3 -m http.server did not start (python3 >= 3.11 has --protocol): $(tail -n 3 "$work/py.log")"
for fam in 4 6; do
  if [[ $fam == 4 ]]; then srv=$lin4 me=$our4/24 opt=--ip; else srv=$lin6 me=$our6/64 opt=--ip6; fi
  prep_link
  run "inc-client IPv$fam -> python3 http.server (keep-alive, bodies verified)" 0 \
    ip netns exec "$ns" "$client_bin" --tap "$tap" "$opt" "$me" --server "$srv" --port 8081 \
    --requests 100 --conns 2 --sizes 0,1,1460,65536,1000000
done
# negative control: one byte of a served body changed -> inc-client must fail
printf 'X' | dd of="$work/www/bytes/1460" bs=1 seek=700 conv=notrunc status=none
prep_link
run "inc-client detects one changed byte in a body (negative control)" 1 \
  ip netns exec "$ns" "$client_bin" --tap "$tap" --ip "$our4/24" --server "$lin4" --port 8081 \
  --requests 2 --conns 1 --sizes 1460
kill "$py_pid" 2>/dev/null
wait "$py_pid" 2>/dev/null
py_pid=""

cat >"$work/echo.py" <<'EOF'
import socket, socketserver
class H(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            b = self.request.recv(65536)
            if not b:
                break
            self.request.sendall(b)
class S(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
S(("::", 8082), H).serve_forever()
EOF
ip netns exec "$ns" python3 "$work/echo.py" >"$work/pyecho.log" 2>&1 &
py_pid=$!
up=0
for _ in $(seq 1 100); do
  inns python3 -c "import socket; socket.create_connection(('$lin4', 8082), 1)" 2>/dev/null && up=1 && break
  sleep 0.1
done
[[ $up == 1 ]] || fail "the python3 echo server did not start: $(tail -n 3 "$work/pyecho.log")"
for fam in 4 6; do
  if [[ $fam == 4 ]]; then srv=$lin4 me=$our4/24 opt=--ip; else srv=$lin6 me=$our6/64 opt=--ip6; fi
  prep_link
  run "inc-client --proto echo IPv$fam -> a python3 echo server (every byte verified)" 0 \
    ip netns exec "$ns" "$client_bin" --tap "$tap" "$opt" "$me" --server "$srv" --port 8082 \
    --proto echo --conns 2 --bytes 2000000
done

echo "api_examples tap: $failures failure(s)"
[[ $failures -eq 0 ]]
