# SPDX-License-Identifier: GPL-2.0-or-later
# Network-namespace harness for real-traffic integration tests.
# Source it after lib.sh:
#
#       . "$(dirname "$0")/lib.sh"
#       . "$(dirname "$0")/lib-netns.sh"
#       netns_require
#       topo_two_hosts
#       serve_tcp peer 80
#       expect_pass "host reaches peer:80" probe_tcp host "$PEER_IP4" 80
#
# Everything this file creates carries the prefix hep-<pid> ($NS_PREFIX), so
# parallel jobs on one machine never collide. Veth pairs are created directly
# inside their namespaces, never in the root namespace. One cleanup hook,
# registered below, stops the servers by their recorded PIDs, kills what is
# left in our namespaces (ip netns pids) and deletes them; it also runs when
# the test is killed with SIGTERM/SIGINT/SIGHUP (not SIGKILL: a later run with
# the same PID deletes the stale namespaces first).
#
# Probes return 0 if the traffic got through and the expected reply came back,
# 1 if it did not (blocked, refused, unreachable, no reply), and 2 for a harness
# error (unknown namespace, bad arguments). A blocked probe costs
# $PROBE_TIMEOUT seconds (default 0.5), a passing one a few milliseconds.
# After each probe: PROBE_OUT (the reply), PROBE_ERR (the tool's stderr),
# PROBE_MS (elapsed milliseconds, set by expect_pass/expect_blocked).
#
# Caveats for test writers:
# - Conntrack keeps state for a fixed 4-tuple: with a policy that accepts
#   "ct state established", a probe from a fixed source port that passed may
#   keep passing after the policy changes. Use random source ports (the
#   default) when the verdict is what you test.
# - A UDP server bound to the wildcard answers from the primary address of the
#   subnet; on an interface with several addresses in one subnet, pass ADDR
#   to serve_udp so the reply comes from the address the probe used.
# - expect_blocked cannot tell a drop from a server that is not there (that
#   one fails fast, with a RST or port unreachable): next to each
#   expect_blocked, keep an expect_pass to the same server as a control.

declare -p CLEANUP_HOOKS >/dev/null 2>&1 || { echo "lib-netns.sh must be sourced after lib.sh" >&2; exit 2; }

NS_PREFIX="hep-$$"
PROBE_TIMEOUT="${PROBE_TIMEOUT:-0.5}"
HEP_PYTHON="${HEP_PYTHON:-/usr/bin/python3}"
PROBE_OUT=
PROBE_ERR=
PROBE_MS=0
SERVER_PID=
_NETNS_NAMES=()         # short names, in creation order
_NETNS_SERVERS=()       # PIDs (= process groups) of our servers
_NETNS_MOUNT_POINTS=()  # directories mount_point made on the machine
_NETNS_PROBED=

# The mount points go last: mounts on them live in our namespaces' processes.
CLEANUP_HOOKS+=("_netns_cleanup_all" "_netns_mount_points_cleanup")
# bash runs the EXIT trap on these signals too, but only once it is back in
# the shell; exiting explicitly makes the exit status conventional.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- internals

# _netns_now: sets _NOW to the current time in microseconds (no fork).
_netns_now() { _NOW=${EPOCHREALTIME//[.,]/}; }

# _netns_us SECONDS: sets _US to SECONDS (integer or decimal) in microseconds.
_netns_us() {
        local s=$1 int frac=
        int=${s%%.*}
        [[ $s == *.* ]] && frac=${s#*.}
        frac="${frac}000000"
        _US=$((10#${int:-0} * 1000000 + 10#${frac:0:6}))
}

# _netns_poll TIMEOUT CMD...: runs CMD every 20 ms until it succeeds; 1 on timeout.
_netns_poll() {
        local deadline
        _netns_us "$1"; shift
        _netns_now; deadline=$((_NOW + _US))
        until "$@"; do
                _netns_now
                [ "$_NOW" -ge "$deadline" ] && return 1
                sleep 0.02
        done
}

# _netns_die MSG: records a setup failure and ends the test (a test whose
# world could not be built must not report blocked traffic as a success).
_netns_die() {
        CHECKS=$((CHECKS + 1))
        fail "netns setup: $*"
        exit 1
}

# _netns_skip REASON: ends the test as skipped (meson counts exit 77).
_netns_skip() {
        echo "SKIP: $* (kernel $(uname -r))"
        exit 77
}

# _netns_full NAME: sets _FULL to the namespace name; 1 if NAME is invalid.
_netns_full() {
        [[ $1 =~ ^[A-Za-z0-9_-]+$ ]] || { echo "bad namespace name '$1'" >&2; return 1; }
        _FULL="$NS_PREFIX-$1"
}

# _netns_known NAME: sets _FULL; 1 (with a message) if the namespace does not exist.
_netns_known() {
        _netns_full "$1" || return 1
        [ -e "/run/netns/$_FULL" ] || { echo "no namespace $_FULL (netns_add $1 first)" >&2; return 1; }
}

# _netns_is_v6 ADDR: true for an IPv6 address or CIDR.
_netns_is_v6() { [[ $1 == *:* ]]; }

# _netns_sockaddr ADDR PORT: sets _SA to socat's ADDR:PORT ([ADDR]:PORT for v6).
_netns_sockaddr() {
        if _netns_is_v6 "$1"; then _SA="[$1]:$2"; else _SA="$1:$2"; fi
}

# _netns_pids_empty FULL: true once no process is left in namespace FULL.
_netns_pids_empty() { [ -z "$(ip netns pids "$1" 2>/dev/null)" ]; }

# _netns_kill_ns FULL: kills every process in namespace FULL by PID (TERM, then KILL).
_netns_kill_ns() {
        local full=$1 sig pids p
        for sig in TERM KILL; do
                pids=()
                for p in $(ip netns pids "$full" 2>/dev/null); do
                        [ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] || pids+=("$p")
                done
                [ "${#pids[@]}" -eq 0 ] && return 0
                kill "-$sig" "${pids[@]}" 2>/dev/null
                _netns_poll 2 _netns_pids_empty "$full" && return 0
        done
        echo "processes still in $full: $(ip netns pids "$full" | tr '\n' ' ')" >&2
        return 1
}

# _netns_del NAME: kills what runs in our namespace NAME and deletes it.
_netns_del() {
        _netns_full "$1" || return 1
        local full=$_FULL
        [ -e "/run/netns/$full" ] || return 0
        _netns_kill_ns "$full"
        ip netns del "$full"
}

# _netns_alive PID: true while PID exists and is not a zombie.
_netns_alive() {
        local stat
        stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
        stat=${stat##*) }
        [ "${stat:0:1}" != Z ]
}

# _netns_dead PID: true once PID has exited.
_netns_dead() { ! _netns_alive "$1"; }

# _netns_cleanup_all: the EXIT hook; servers first, then namespaces, newest first.
_netns_cleanup_all() {
        local pid i
        for pid in "${_NETNS_SERVERS[@]}"; do
                server_stop "$pid" 2>/dev/null
        done
        for ((i = ${#_NETNS_NAMES[@]} - 1; i >= 0; i--)); do
                _netns_del "${_NETNS_NAMES[i]}"
        done
        return 0
}

# _netns_mount_points_cleanup: the EXIT hook after that; removes what
# mount_point made, newest first, and only if still empty. A mount in a
# dying mount namespace can keep one busy a moment (EBUSY): retried for 2 s.
_netns_mount_points_cleanup() {
        local d i
        for ((i = ${#_NETNS_MOUNT_POINTS[@]} - 1; i >= 0; i--)); do
                d=${_NETNS_MOUNT_POINTS[i]}
                wait_for "rmdir '$d' 2>/dev/null || [ ! -d '$d' ] || [ -n \"\$(ls -A '$d')\" ]" 2 ||
                        echo "# could not remove $d, which this test created" >&2
        done
        return 0
}

# ------------------------------------------------------------ public: world

# netns_require: skips the test (exit 77) unless we are root and can create a namespace with a veth pair.
netns_require() {
        [ -n "$_NETNS_PROBED" ] && return 0
        local tool probe="$NS_PREFIX-probe"
        [ "$(id -u)" -eq 0 ] || _netns_skip "network namespace tests need root"
        for tool in ip nft socat ping ss timeout setsid; do
                command -v "$tool" >/dev/null || _netns_skip "$tool is not installed (apt-get install iproute2 nftables socat iputils-ping)"
        done
        ip netns del "$probe" 2>/dev/null
        ip netns add "$probe" 2>"$T/.netns_probe" ||
                _netns_skip "ip netns add fails: $(cat "$T/.netns_probe")"
        if ! ip -n "$probe" link add hep-probe0 type veth peer name hep-probe1 2>"$T/.netns_probe"; then
                ip netns del "$probe"
                _netns_skip "cannot create a veth pair in a namespace: $(cat "$T/.netns_probe")"
        fi
        ip netns del "$probe"
        _NETNS_PROBED=1
}

# ns NAME: prints the full namespace name (hep-<pid>-NAME).
ns() { _netns_full "$1" && printf '%s\n' "$_FULL"; }

# netns_add NAME: creates namespace hep-<pid>-NAME (deleting a stale one first) with lo up and IPv6 DAD off; cleaned up on exit.
netns_add() {
        _netns_full "$1" || _netns_die "netns_add: bad name '$1'"
        local name=$1 full=$_FULL n known=
        [ -e "/run/netns/$full" ] && _netns_del "$name"
        ip netns add "$full" || _netns_die "ip netns add $full failed"
        for n in "${_NETNS_NAMES[@]}"; do [ "$n" = "$name" ] && known=1; done
        [ -n "$known" ] || _NETNS_NAMES+=("$name")
        ip -n "$full" link set lo up || _netns_die "lo up in $full failed"
        # Interfaces created in or moved into the namespace inherit "default".
        ip netns exec "$full" sh -c 'for c in all default; do
                        echo 0 > /proc/sys/net/ipv6/conf/$c/accept_dad
                done' || _netns_die "disabling IPv6 DAD in $full failed"
}

# netns_exec NAME CMD...: runs CMD inside namespace NAME.
netns_exec() {
        _netns_full "$1" || return 2
        shift
        ip netns exec "$_FULL" "$@"
}

# veth_add NS_A IF_A NS_B IF_B: a veth pair IF_A (in NS_A) <-> IF_B (in NS_B), both up, IPv6 DAD off.
veth_add() {
        [ $# -eq 4 ] || _netns_die "usage: veth_add NS_A IF_A NS_B IF_B"
        local a b
        _netns_known "$1" || _netns_die "veth_add: no namespace '$1'"; a=$_FULL
        _netns_known "$3" || _netns_die "veth_add: no namespace '$3'"; b=$_FULL
        [ "${#2}" -le 15 ] && [ "${#4}" -le 15 ] || _netns_die "veth_add: interface names are limited to 15 characters ($2, $4)"
        ip -n "$a" link add "$2" type veth peer name "$4" netns "$b" ||
                _netns_die "veth_add: ip link add $2 ($a) peer $4 ($b) failed"
        ip netns exec "$a" sh -c "echo 0 > /proc/sys/net/ipv6/conf/$2/accept_dad" &&
                ip netns exec "$b" sh -c "echo 0 > /proc/sys/net/ipv6/conf/$4/accept_dad" ||
                _netns_die "veth_add: disabling DAD on $2/$4 failed"
        ip -n "$a" link set "$2" up && ip -n "$b" link set "$4" up ||
                _netns_die "veth_add: link up failed"
        wait_operstate "$1" "$2" UP && wait_operstate "$3" "$4" UP ||
                _netns_die "veth_add: $2/$4 did not come up"
}

# addr_add NS IF CIDR: adds an IPv4 or IPv6 address (v6 with nodad) and waits until it is usable.
addr_add() {
        [ $# -eq 3 ] || _netns_die "usage: addr_add NS IF CIDR"
        _netns_known "$1" || _netns_die "addr_add: no namespace '$1'"
        local full=$_FULL
        if _netns_is_v6 "$3"; then
                ip -n "$full" addr add "$3" dev "$2" nodad || _netns_die "addr_add $3 on $2 ($full) failed"
                # On a link without carrier the kernel keeps v6 addresses
                # tentative until it comes up; only wait when it is up.
                if [[ $(ip -n "$full" -o link show dev "$2") == *LOWER_UP* ]]; then
                        _netns_poll 5 _netns_no_tentative "$full" "$2" ||
                                _netns_die "addr_add: $3 on $2 ($full) stays tentative"
                fi
        else
                ip -n "$full" addr add "$3" dev "$2" || _netns_die "addr_add $3 on $2 ($full) failed"
        fi
}

# _netns_no_tentative FULL IF: true when IF has no tentative IPv6 address.
_netns_no_tentative() { [ -z "$(ip -n "$1" -6 -o addr show dev "$2" tentative)" ]; }

# wait_operstate NS IF STATE [TIMEOUT]: waits (default 5 s) until IF's operstate is STATE (up, down, lowerlayerdown, ...; "a|b" for either).
# Note: a veth whose peer is down reports LOWERLAYERDOWN, or DOWN when its
# ifindex happens to equal the peer's (common: each namespace counts from 1);
# wait for "down|lowerlayerdown" unless the test controls the indexes.
wait_operstate() {
        _netns_known "$1" || return 2
        local full=$_FULL dev=$2 want=${3^^} timeout=${4:-5}
        if ! _netns_poll "$timeout" _netns_operstate_is "$full" "$dev" "$want"; then
                echo "wait_operstate: $dev in $full is ${_OPERSTATE:-absent}, expected $want after ${timeout}s" >&2
                return 1
        fi
}

# _netns_operstate_is FULL IF STATES: sets _OPERSTATE; true if it is one of STATES (separated by |).
_netns_operstate_is() {
        local line
        _OPERSTATE=
        line=$(ip -n "$1" -o link show dev "$2" 2>/dev/null) || return 1
        [[ $line =~ \ state\ ([A-Z_]+)\  ]] && _OPERSTATE=${BASH_REMATCH[1]}
        [[ "|$3|" == *"|$_OPERSTATE|"* ]]
}

# topo_two_hosts: namespaces host and peer joined by veth eth0<->eth0, 10.77.0.1|2/24 and fd77::1|2/64, ping checked both ways.
topo_two_hosts() {
        HOST_IP4=10.77.0.1 PEER_IP4=10.77.0.2
        HOST_IP6=fd77::1 PEER_IP6=fd77::2
        netns_add host
        netns_add peer
        veth_add host eth0 peer eth0
        addr_add host eth0 "$HOST_IP4/24"
        addr_add host eth0 "$HOST_IP6/64"
        addr_add peer eth0 "$PEER_IP4/24"
        addr_add peer eth0 "$PEER_IP6/64"
        local from to
        for from in host peer; do
                if [ "$from" = host ]; then to="$PEER_IP4 $PEER_IP6"; else to="$HOST_IP4 $HOST_IP6"; fi
                for to in $to; do
                        _netns_poll 5 probe_ping "$from" "$to" ||
                                _netns_die "topo_two_hosts: $from cannot ping $to"
                done
        done
}

# mount_point DIR: makes sure DIR exists on the machine, as a mount point for
# another daemon's private mount namespace (an empty directory is harmless;
# that daemon's package makes most of them anyway); what it creates is
# removed again at exit.
mount_point() {
        local d=$1 missing=()
        while [ ! -d "$d" ]; do
                missing=("$d" "${missing[@]}")
                d=$(dirname "$d")
        done
        for d in "${missing[@]}"; do
                mkdir "$d" || _netns_die "cannot create mount point $d"
                _NETNS_MOUNT_POINTS+=("$d")
        done
}

# ---------------------------------------------------------------- servers

# _netns_serve KIND NS PORT [ADDR]: starts a socat server (KIND tcp|udp) and waits until it listens.
_netns_serve() {
        local kind=$1 name=$2 port=$3 addr=${4:-} full listen fam v ssopt log pid
        [[ $port =~ ^[0-9]+$ ]] || _netns_die "serve_$kind: bad port '$port'"
        _netns_known "$name" || _netns_die "serve_$kind: no namespace '$name'"
        full=$_FULL
        if [ "$kind" = tcp ]; then fam=TCP; v=LISTEN; ssopt=-Hltnp; else fam=UDP; v=RECVFROM; ssopt=-Hlunp; fi
        if [ -z "$addr" ]; then
                listen="${fam}6-$v:$port,ipv6only=0"            # both families
        elif _netns_is_v6 "$addr"; then
                listen="${fam}6-$v:$port,bind=[$addr]"
        else
                listen="${fam}4-$v:$port,bind=$addr"
        fi
        log="$T/serve-$name-$kind-$port${addr:+-$addr}.log"
        # The server is its own process group (setsid, or job control if the
        # test enabled it), so its per-connection children stop with it.
        if [ "$kind" = tcp ]; then
                if [[ $- == *m* ]]; then
                        ip netns exec "$full" socat "$listen,reuseaddr,fork,backlog=64" \
                                "EXEC:echo hep-ok $full $port" </dev/null >"$log" 2>&1 &
                else
                        setsid ip netns exec "$full" socat "$listen,reuseaddr,fork,backlog=64" \
                                "EXEC:echo hep-ok $full $port" </dev/null >"$log" 2>&1 &
                fi
        else
                if [[ $- == *m* ]]; then
                        ip netns exec "$full" socat "$listen,reuseaddr,fork" PIPE </dev/null >"$log" 2>&1 &
                else
                        setsid ip netns exec "$full" socat "$listen,reuseaddr,fork" PIPE </dev/null >"$log" 2>&1 &
                fi
        fi
        pid=$!
        disown "$pid" 2>/dev/null
        _NETNS_SERVERS+=("$pid")
        SERVER_PID=$pid
        # Ready when a socket on PORT belongs to this very process.
        _SERVER_DIED=
        if ! _netns_poll 5 _netns_listening "$full" "$ssopt" "$port" "$pid" || [ -n "$_SERVER_DIED" ]; then
                _netns_die "serve_$kind $name $port ${addr:-(any)}: not listening; socat said: $(cat "$log")"
        fi
}

# _netns_listening FULL SSOPT PORT PID: true when PID owns a listening socket on PORT, or has died (_SERVER_DIED=1).
_netns_listening() {
        local out
        if _netns_dead "$4"; then _SERVER_DIED=1; return 0; fi
        out=$(ss -N "$1" "$2" "sport = :$3" 2>/dev/null)
        [[ $out == *"pid=$4,"* ]]
}

# serve_tcp NS PORT [ADDR]: TCP server answering each connection with "hep-ok <namespace> <port>"; no ADDR = v4 and v6. Sets SERVER_PID.
serve_tcp() { _netns_serve tcp "$@"; }

# serve_udp NS PORT [ADDR]: UDP echo server (each datagram is sent back); no ADDR = v4 and v6. Sets SERVER_PID.
serve_udp() { _netns_serve udp "$@"; }

# serve_tcp6 NS PORT [ADDR]: TCP server on IPv6 only (ADDR defaults to ::).
serve_tcp6() { _netns_serve tcp "$1" "$2" "${3:-::}"; }

# serve_udp6 NS PORT [ADDR]: UDP echo server on IPv6 only (ADDR defaults to ::).
serve_udp6() { _netns_serve udp "$1" "$2" "${3:-::}"; }

# server_stop PID: stops a server started by serve_* (by its recorded PID and process group) and waits until it is gone.
server_stop() {
        local pid=$1 known= p stat
        for p in "${_NETNS_SERVERS[@]}"; do [ "$p" = "$pid" ] && known=1; done
        [ -n "$known" ] || { echo "server_stop: $pid is not one of our servers" >&2; return 2; }
        _netns_alive "$pid" || return 0
        stat=$(cat "/proc/$pid/stat" 2>/dev/null); stat=${stat##*) }
        read -ra stat <<<"$stat"        # state ppid pgrp ...
        if [ "${stat[2]:-}" = "$pid" ]; then kill -TERM -- "-$pid" 2>/dev/null; else kill -TERM "$pid" 2>/dev/null; fi
        _netns_poll 2 _netns_dead "$pid" && return 0
        kill -KILL "$pid" 2>/dev/null
        _netns_poll 2 _netns_dead "$pid"
}

# ----------------------------------------------------------------- probes

# _netns_probe_ok FROM: sets _FULL and checks PROBE_TIMEOUT; 1 with PROBE_ERR set otherwise.
_netns_probe_ok() {
        [[ $PROBE_TIMEOUT =~ ^[0-9]+(\.[0-9]+)?$ ]] || { PROBE_ERR="bad PROBE_TIMEOUT '$PROBE_TIMEOUT'"; return 1; }
        _netns_known "$1" 2>"$T/.probe.$BASHPID" || { PROBE_ERR=$(<"$T/.probe.$BASHPID"); return 1; }
}

# _netns_probe_tcp FROM ADDR PORT [SRCPORT]: connects, reads the server's line.
_netns_probe_tcp() {
        PROBE_OUT= PROBE_ERR=
        [ $# -ge 3 ] || { PROBE_ERR="usage: probe_tcp FROM_NS ADDR PORT"; return 2; }
        _netns_probe_ok "$1" || return 2
        # The error file is named outside $( ): there $BASHPID is the subshell's.
        local full=$_FULL fam=TCP4 opts rc errf="$T/.probe.$BASHPID"
        _netns_is_v6 "$2" && fam=TCP6
        _netns_sockaddr "$2" "$3"
        opts="connect-timeout=$PROBE_TIMEOUT"
        [ -n "${4:-}" ] && opts="$opts,sourceport=$4,reuseaddr"
        # -u: only read, so the server closes first and a fixed source port
        # is not left in TIME_WAIT on our side.
        PROBE_OUT=$(timeout -s KILL 5 ip netns exec "$full" \
                socat -T "$PROBE_TIMEOUT" -u "$fam:$_SA,$opts" STDOUT 2>"$errf" </dev/null)
        rc=$?
        PROBE_ERR=$(<"$errf")
        [ "$rc" -eq 0 ] && [[ $PROBE_OUT == hep-ok* ]]
}

# _netns_probe_udp FROM ADDR PORT [SRCPORT]: sends a datagram, expects it echoed.
_netns_probe_udp() {
        PROBE_OUT= PROBE_ERR=
        [ $# -ge 3 ] || { PROBE_ERR="usage: probe_udp FROM_NS ADDR PORT"; return 2; }
        _netns_probe_ok "$1" || return 2
        local full=$_FULL fam=UDP4 opts payload rc errf="$T/.probe.$BASHPID"
        _netns_is_v6 "$2" && fam=UDP6
        _netns_sockaddr "$2" "$3"
        payload="hep-probe-$RANDOM$RANDOM"
        # readbytes: the echo ends the UDP side, so socat exits as soon as it
        # arrives instead of waiting for its timeout.
        opts="readbytes=$((${#payload} + 1))"
        [ -n "${4:-}" ] && opts="$opts,sourceport=$4,reuseaddr"
        PROBE_OUT=$(timeout -s KILL 5 ip netns exec "$full" \
                socat -t "$PROBE_TIMEOUT" -T "$PROBE_TIMEOUT" - "$fam:$_SA,$opts" \
                2>"$errf" <<<"$payload")
        rc=$?
        PROBE_ERR=$(<"$errf")
        [ "$rc" -eq 0 ] && [ "$PROBE_OUT" = "$payload" ]
}

# probe_tcp FROM_NS ADDR PORT: 0 if a TCP connection to ADDR:PORT gets the server's line back.
probe_tcp() { [ $# -eq 3 ] || { PROBE_ERR="usage: probe_tcp FROM_NS ADDR PORT"; return 2; }; _netns_probe_tcp "$@"; }

# probe_tcp_from_port FROM_NS ADDR PORT SRCPORT: probe_tcp from a fixed source port.
probe_tcp_from_port() { [ $# -eq 4 ] || { PROBE_ERR="usage: probe_tcp_from_port FROM_NS ADDR PORT SRCPORT"; return 2; }; _netns_probe_tcp "$@"; }

# probe_udp FROM_NS ADDR PORT: 0 if a datagram to ADDR:PORT comes back echoed.
probe_udp() { [ $# -eq 3 ] || { PROBE_ERR="usage: probe_udp FROM_NS ADDR PORT"; return 2; }; _netns_probe_udp "$@"; }

# probe_udp_from_port FROM_NS ADDR PORT SRCPORT: probe_udp from a fixed source port.
probe_udp_from_port() { [ $# -eq 4 ] || { PROBE_ERR="usage: probe_udp_from_port FROM_NS ADDR PORT SRCPORT"; return 2; }; _netns_probe_udp "$@"; }

# probe_ping FROM_NS ADDR: 0 if one ICMP/ICMPv6 echo to ADDR is answered.
probe_ping() {
        PROBE_OUT= PROBE_ERR=
        [ $# -eq 2 ] || { PROBE_ERR="usage: probe_ping FROM_NS ADDR"; return 2; }
        _netns_probe_ok "$1" || return 2
        local rc errf="$T/.probe.$BASHPID"
        PROBE_OUT=$(timeout -s KILL 5 ip netns exec "$_FULL" \
                ping -n -q -c 1 -W "$PROBE_TIMEOUT" "$2" 2>"$errf" </dev/null)
        rc=$?
        PROBE_ERR=$(<"$errf")
        return "$rc"
}

# ------------------------------------------------------------- assertions

# _netns_expect WANT DESC CMD...: runs a probe and records whether its verdict is WANT (pass|blocked).
_netns_expect() {
        local want=$1 desc=$2 start rc
        shift 2
        CHECKS=$((CHECKS + 1))
        PROBE_OUT= PROBE_ERR=
        _netns_now; start=$_NOW
        "$@"
        rc=$?
        _netns_now; PROBE_MS=$(((_NOW - start) / 1000))
        if [ "$rc" -ge 2 ]; then
                fail "$desc: harness error (exit $rc) running: $*${PROBE_ERR:+: $PROBE_ERR}"
        elif [ "$want" = pass ] && [ "$rc" -eq 0 ]; then
                pass "$desc (passed in $PROBE_MS ms)"
        elif [ "$want" = blocked ] && [ "$rc" -ne 0 ]; then
                pass "$desc (blocked, $PROBE_MS ms)"
        elif [ "$want" = pass ]; then
                fail "$desc: expected the traffic to pass, it was blocked after $PROBE_MS ms: $*${PROBE_ERR:+ -- $PROBE_ERR}"
        else
                fail "$desc: expected the traffic to be blocked, it passed in $PROBE_MS ms: $*${PROBE_OUT:+ -- reply: $PROBE_OUT}"
        fi
}

# expect_pass DESC CMD...: records a check that the probe CMD gets through.
expect_pass() { _netns_expect pass "$@"; }

# expect_blocked DESC CMD...: records a check that the probe CMD does not get through (a harness error is a failure).
expect_blocked() { _netns_expect blocked "$@"; }

# ------------------------------------------------------------ nft goldens

# Normalisation: drop the metainfo entry, every "handle" and "expires", zero
# counter packets/bytes and quota "used"; sorted keys, indent 2. The result is
# still valid input for "nft -j -f".
_NETNS_NFT_NORMALISE='
import json, sys
def norm(o):
    if isinstance(o, list):
        return [norm(x) for x in o]
    if not isinstance(o, dict):
        return o
    r = {}
    for k, v in o.items():
        if k in ("handle", "expires"):
            continue
        if k in ("packets", "bytes", "used") and isinstance(v, int):
            v = 0
        r[k] = norm(v)
    return r
doc = json.load(sys.stdin)
items = [norm(i) for i in doc.get("nftables", []) if "metainfo" not in i]
print(json.dumps({"nftables": items}, indent=2, sort_keys=True))
'

# nft_dump NS [FAMILY TABLE]: prints the table (default inet hostendpoint) as normalised JSON; non-zero if it cannot be listed.
nft_dump() {
        _netns_known "$1" || return 2
        local full=$_FULL family=${2:-inet} table=${3:-hostendpoint} json py=$HEP_PYTHON
        [ -x "$py" ] || py=$(command -v python3) || { echo "nft_dump: python3 not found" >&2; return 2; }
        json=$(ip netns exec "$full" nft -j list table "$family" "$table") || return 1
        printf '%s' "$json" | "$py" -c "$_NETNS_NFT_NORMALISE"
}

# expect_golden NAME NS [FAMILY TABLE]: records a check that nft_dump equals tests/integration/golden/NAME.json (HEP_UPDATE_GOLDEN=1 rewrites it).
expect_golden() {
        local name=$1 nsname=$2 golden out
        shift 2
        golden="$SRCDIR/tests/integration/golden/$name.json"
        CHECKS=$((CHECKS + 1))
        if ! out=$(nft_dump "$nsname" "$@" 2>"$T/.golden.err"); then
                fail "golden $name: cannot list the table in $(ns "$nsname"): $(cat "$T/.golden.err")"
                return
        fi
        if [ "${HEP_UPDATE_GOLDEN:-0}" = 1 ]; then
                mkdir -p "${golden%/*}" && printf '%s\n' "$out" >"$golden" &&
                        pass "golden $name (rewritten: $golden)" ||
                        fail "golden $name: cannot write $golden"
                return
        fi
        if [ ! -f "$golden" ]; then
                fail "golden $name: $golden is missing (create it with HEP_UPDATE_GOLDEN=1)"
                return
        fi
        if printf '%s\n' "$out" | diff -u --label "$golden" --label "nft_dump $nsname" "$golden" - >"$T/.golden.diff"; then
                pass "golden $name"
        else
                fail "golden $name differs (HEP_UPDATE_GOLDEN=1 rewrites it):
$(cat "$T/.golden.diff")"
        fi
}
