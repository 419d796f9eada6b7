#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Self-test of lib-netns.sh: real TCP, UDP and ICMP over IPv4 and IPv6
# between two namespaces, verdicts of a plain nftables table, the time bound
# of a blocked probe, golden dumps, hot-plugged veths, and cleanup.
#
#   +-------------------------+   veth    +-------------------------+
#   | hep-<pid>-host          | eth0-eth0 | hep-<pid>-peer          |
#   |  10.77.0.1/24 fd77::1   |-----------|  10.77.0.2/24 fd77::2   |
#   |  tcp 8080 8081 (v4+v6)  |           |  tcp 8080 on each addr  |
#   |  udp 5353 5354 (v4+v6)  | eth1-eth1 |                         |
#   |  10.78.0.1/24 fd78::1   |-----------|  10.78.0.2/24 fd78::2   |
#   |  table inet selftest    | (hot-plug)|                         |
#   +-------------------------+           +-------------------------+
#
# Run without arguments (as meson does), it is the outer check: it runs the
# inner test twice as a child and once killed with SIGTERM in the middle, and
# after each verifies from the outside that no namespace named hep-<child>-*,
# no process started by the child and no temporary directory is left. That
# is the same as, by hand:
#       bash netns-selftest.sh --inner & pid=$!; wait $pid
#       ip netns list | grep "^hep-$pid-"      # must print nothing
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/lib-netns.sh"
netns_require

if [ "${1:-}" != --inner ]; then
        STATE="$T/state"
        mkdir -p "$STATE"
        export HEP_SELFTEST_STATE="$STATE"

        # leftovers PID: prints what the child PID left behind.
        leftovers() {
                local pid=$1 f args p want
                ip netns list | grep "^hep-$pid-" | sed 's/^/namespace /'
                for f in /proc/[0-9]*/cmdline; do
                        args=()
                        mapfile -d '' args <"$f" 2>/dev/null
                        [[ " ${args[*]} " == *"hep-$pid-"* ]] && echo "process ${f//[^0-9]/}: ${args[*]}"
                done
                if [ -f "$STATE/servers.$pid" ]; then
                        while read -r p; do
                                want=$(cat "/proc/$p/comm" 2>/dev/null) && [ "$want" = socat ] &&
                                        echo "server $p still runs"
                        done <"$STATE/servers.$pid"
                fi
                ls -d /tmp/hep-test-"$pid"-* 2>/dev/null | sed 's/^/directory /'
        }

        for round in 1 2; do
                bash "$0" --inner &
                pid=$!
                wait "$pid"
                RC=$? OUT= ERR=
                expect_rc 0 "inner self-test, round $round (pid $pid)"
                OUT=$(leftovers "$pid")
                expect_out "" "round $round left nothing behind"
        done

        # Killed in the middle (as a meson timeout does): cleanup still runs.
        bash "$0" --inner --hold &
        pid=$!
        wait_for '[ -e "$STATE/ready.$pid" ] || ! kill -0 $pid 2>/dev/null' 20
        expect_true '[ -n "$(ip netns list | grep "^hep-$pid-")" ]' "held child has its namespaces"
        kill -TERM "$pid"
        wait "$pid"
        RC=$? OUT= ERR=
        expect_rc 143 "held child ends on SIGTERM"
        OUT=$(leftovers "$pid")
        expect_out "" "SIGTERM left nothing behind"
        exit 0
fi

# ------------------------------------------------------------- inner test

topo_two_hosts
expect_true '[ "$(ns host)" = "hep-$$-host" ] && [ -e /run/netns/hep-$$-peer ]' "namespace names carry the PID"

serve_tcp host 8080; S_TCP8080=$SERVER_PID
serve_tcp host 8081
serve_udp host 5353
serve_udp host 5354
serve_tcp peer 8080 "$PEER_IP4"
serve_tcp6 peer 8080 "$PEER_IP6"
[ -n "${HEP_SELFTEST_STATE:-}" ] && printf '%s\n' "${_NETNS_SERVERS[@]}" >"$HEP_SELFTEST_STATE/servers.$$"

if [ "${2:-}" = --hold ]; then
        # Wait (interruptibly: read, not a foreground child) to be killed.
        mkfifo "$T/hold"
        touch "$HEP_SELFTEST_STATE/ready.$$"
        read -r -t 30 _ <>"$T/hold"
        exit 1
fi

# --- everything passes without a firewall ---
for ip in "$HOST_IP4" "$HOST_IP6"; do
        expect_pass "tcp peer -> [$ip]:8080" probe_tcp peer "$ip" 8080
        expect_pass "tcp peer -> [$ip]:8081" probe_tcp peer "$ip" 8081
        expect_pass "udp peer -> [$ip]:5353" probe_udp peer "$ip" 5353
        expect_pass "udp peer -> [$ip]:5354" probe_udp peer "$ip" 5354
        expect_pass "ping peer -> $ip" probe_ping peer "$ip"
done
for ip in "$PEER_IP4" "$PEER_IP6"; do
        expect_pass "tcp host -> [$ip]:8080 (server bound to that address)" probe_tcp host "$ip" 8080
        expect_true '[ "$PROBE_OUT" = "hep-ok $(ns peer) 8080" ]' "the reply names the server's namespace and port"
        expect_pass "ping host -> $ip" probe_ping host "$ip"
done
for ip in "$HOST_IP4" "$HOST_IP6"; do
        expect_pass "tcp from source port 40000 -> [$ip]:8080" probe_tcp_from_port peer "$ip" 8080 40000
        expect_pass "tcp from source port 40000 again (no TIME_WAIT on our side)" probe_tcp_from_port peer "$ip" 8080 40000
        expect_pass "udp from source port 40001 -> [$ip]:5353" probe_udp_from_port peer "$ip" 5353 40001
        expect_pass "udp from source port 40001 again" probe_udp_from_port peer "$ip" 5353 40001
done

# --- negative controls and harness errors ---
expect_blocked "tcp to a closed port (RST)" probe_tcp peer "$HOST_IP4" 9
expect_true '[ "$PROBE_MS" -lt 400 ]' "a refused connection fails fast ($PROBE_MS ms)"
expect_blocked "udp to a closed port (port unreachable)" probe_udp peer "$HOST_IP6" 9
expect_blocked "ping to an absent neighbour" probe_ping peer 10.77.0.99
run probe_tcp nosuch "$HOST_IP4" 8080
expect_rc 2 "a probe from an unknown namespace is a harness error, not a block"

# --- a plain nftables table in the host namespace ---
netns_exec host nft -f - <<'EOF'
table inet selftest {
        chain input {
                type filter hook input priority filter; policy accept;
                tcp dport 8081 counter drop
                udp dport 5354 counter drop
                icmpv6 type echo-request counter drop
        }
}
EOF
RC=$? OUT= ERR=
expect_rc 0 "selftest table loaded"
for ip in "$HOST_IP4" "$HOST_IP6"; do
        expect_blocked "tcp peer -> [$ip]:8081 dropped" probe_tcp peer "$ip" 8081
        expect_true '[ "$PROBE_MS" -le 1000 ]' "blocked tcp probe within 1 s ($PROBE_MS ms)"
        expect_pass "tcp peer -> [$ip]:8080 still passes" probe_tcp peer "$ip" 8080
        expect_blocked "udp peer -> [$ip]:5354 dropped" probe_udp peer "$ip" 5354
        expect_true '[ "$PROBE_MS" -le 1000 ]' "blocked udp probe within 1 s ($PROBE_MS ms)"
        expect_pass "udp peer -> [$ip]:5353 still passes" probe_udp peer "$ip" 5353
done
expect_blocked "ping6 dropped" probe_ping peer "$HOST_IP6"
expect_true '[ "$PROBE_MS" -le 1000 ]' "blocked ping within 1 s ($PROBE_MS ms)"
expect_pass "ping4 still passes" probe_ping peer "$HOST_IP4"
# Counters have moved; the golden dump zeroes them, drops handles.
expect_golden netns-selftest host inet selftest
# The normalised dump is valid input: loaded elsewhere, it dumps the same.
nft_dump host inet selftest >"$T/dump.json"
netns_exec peer nft -j -f "$T/dump.json"
RC=$? OUT= ERR=
expect_rc 0 "the normalised dump loads back with nft -j -f"
run nft_dump peer inet selftest
expect_out "$(cat "$T/dump.json")" "and round-trips unchanged"
netns_exec peer nft delete table inet selftest
run nft_dump host
expect_rc 1 "nft_dump of an absent table fails"

# --- hot-plug: a new veth is usable at once over IPv6 (no DAD wait) ---
veth_add host eth1 peer eth1
addr_add host eth1 10.78.0.1/24
addr_add host eth1 fd78::1/64
addr_add peer eth1 10.78.0.2/24
addr_add peer eth1 fd78::2/64
expect_pass "first tcp over the new veth, v6" probe_tcp peer fd78::1 8080
expect_pass "first tcp over the new veth, v4" probe_tcp peer 10.78.0.1 8080
netns_exec peer ip link set eth1 down
run wait_operstate host eth1 'down|lowerlayerdown'
expect_rc 0 "operstate follows the peer going down"
netns_exec peer ip link set eth1 up
run wait_operstate host eth1 up
expect_rc 0 "operstate follows the peer coming up"
run wait_operstate host eth1 down 0.2
expect_rc 1 "wait_operstate times out on a state that does not come"

# --- stopping one server by its PID ---
server_stop "$S_TCP8080"
expect_true '! kill -0 "$S_TCP8080" 2>/dev/null' "server $S_TCP8080 is gone"
expect_blocked "a stopped server refuses" probe_tcp peer "$HOST_IP4" 8080
expect_pass "the other servers still run" probe_udp peer "$HOST_IP4" 5353
