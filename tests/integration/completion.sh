#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bash completion of hepctl and hostendpointd, loaded in bash as
# bash-completion loads it: commands, each command's options, every kind
# alias hepctl accepts, resource names from the datastore the command
# line names, option values. With bash-completion installed its
# _init_completion is used; without, a minimal stand-in of our own.
. "$(dirname "$0")/lib.sh"

SCRIPT="$SRCDIR/packaging/completion/hepctl.bash"
REAL="${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}"
DAEMON="$BUILDDIR/module/hostendpointd"

# complete LINE: what completing the end of LINE offers, one per line,
# sorted. Words are split at blanks, and, for bash-completion's own
# _init_completion, also at ':' and '=' as bash splits them
# (COMP_WORDBREAKS): it puts them back together.
cat >"$T/complete.bash" <<'SH'
if [ -r "$REAL" ]; then
        . "$REAL"
else
        # Just what hepctl's completion calls, for a bash without bash-completion.
        _init_completion() {
                cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
                words=("${COMP_WORDS[@]}") cword=$COMP_CWORD split=false
                if [[ $1 == -s* && $cur == --?*=* ]]; then
                        prev=${cur%%=*} cur=${cur#*=} split=true
                fi
                COMPREPLY=()
        }
        __ltrim_colon_completions() { :; }
        _filedir() { COMPREPLY=($(compgen -f -- "$cur")); }
fi
. "$SCRIPT"
COMP_LINE=$1
COMP_POINT=${#COMP_LINE}
read -ra raw <<<"$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && raw+=('')
COMP_WORDS=()
for w in "${raw[@]}"; do
        while [[ -r $REAL && $w =~ ^([^:=]*)([:=])(.*)$ ]]; do
                [[ ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
                COMP_WORDS+=("${BASH_REMATCH[2]}")
                w=${BASH_REMATCH[3]}
        done
        [[ $w || ${#COMP_WORDS[@]} -eq 0 || $COMP_LINE == *' ' ]] && COMP_WORDS+=("$w")
done
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
case ${COMP_WORDS[0]} in
        *hepctl) _hepctl ;;
        *hostendpointd) _hostendpointd ;;
esac
printf '%s\n' "${COMPREPLY[@]}" | sort
SH
complete() {
        OUT=$(REAL="$REAL" SCRIPT="$SCRIPT" bash --norc --noprofile "$T/complete.bash" "$1" 2>"$T/.stderr")
        RC=$?
        ERR=$(cat "$T/.stderr")
}
lines() { printf '%s\n' "$@" | sort; }

if [ -r "$REAL" ]; then
        echo "with bash-completion's _init_completion ($REAL)"
else
        echo "bash-completion is not installed ($REAL): with a minimal _init_completion"
fi

# A datastore: two HostEndpoints, a GlobalNetworkPolicy, NetworkPolicies
# in two namespaces; a second one named by a settings file.
mkdir -p "$T/ds" "$T/ds2"
cat >"$T/res.yaml" <<'YAML'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: web-1}
spec: {node: n1, interfaceName: eth0}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: db-1}
spec: {node: n1, interfaceName: eth1}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-ssh}
spec: {selector: all()}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: np-default}
spec: {selector: all()}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: np-prod, namespace: prod}
spec: {selector: all()}
YAML
run "$HEPCTL" -d "dir:$T/ds" create -f "$T/res.yaml"
expect_rc 0 "the test datastore is created"
printf 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: other-1}\nspec: {node: n1, interfaceName: eth2}\n' >"$T/other.yaml"
run "$HEPCTL" -d "dir:$T/ds2" create -f "$T/other.yaml"
expect_rc 0 "a second datastore is created"
printf 'datastore = dir:%s\n' "$T/ds2" >"$T/hostendpoint.conf"

# Commands: exactly those hepctl --help lists.
commands=$("$HEPCTL" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p' | sort)
expect_true "[ \$(printf '%s\\n' \"$commands\" | wc -l) -ge 10 ]" "hepctl --help lists its commands"
complete "$HEPCTL "
expect_out "$commands" "'hepctl ' offers hepctl's commands"
complete "$HEPCTL -d dir:$T/ds "
expect_out "$commands" "and so after a global --datastore"
complete "$HEPCTL --"
expect_out "$(lines --config --datastore --help --version)" "'hepctl --' offers the global options"

# Kinds: 'get h' offers the HostEndpoint kinds; every alias of
# policy/kinds.c is offered, and hepctl accepts each one offered.
complete "$HEPCTL get h"
expect_out "$(lines hep heps hostendpoint hostendpoints)" "'hepctl get h' offers the HostEndpoint kinds"
expect_err "" "and prints nothing on stderr"
aliases=$(python3 -c 'import re, sys
for block in re.findall(r"_aliases\[\] = \{(.*?)NULL \};", open(sys.argv[1]).read(), re.S):
    print("\n".join(re.findall(r"\"([a-z]+)\"", block)))' "$SRCDIR/policy/kinds.c" | sort -u)
expect_true "[ \$(printf '%s\\n' \"$aliases\" | wc -l) -ge 20 ]" "policy/kinds.c's aliases are found"
complete "$HEPCTL get "
expect_out "$aliases" "'hepctl get ' offers every kind alias of policy/kinds.c, and nothing else"
for k in $OUT; do
        run "$HEPCTL" -d "dir:$T/ds" get "$k" -o custom-columns=NAME
        expect_rc 0 "hepctl accepts the kind $k"
done
for c in delete patch label; do
        complete "$HEPCTL $c gn"
        expect_out "$(lines gnetsets gnp gnps gns)" "'hepctl $c gn' offers kinds"
done
complete "$HEPCTL apply "
expect_out "" "apply takes no kind"

# Names, from the datastore of the command line.
complete "$HEPCTL -d dir:$T/ds get hep "
expect_out "$(lines db-1 web-1)" "'hepctl -d DS get hep ' offers the HostEndpoints of DS"
complete "$HEPCTL get hostendpoints --datastore dir:$T/ds w"
expect_out "web-1" "--datastore after the command counts too, and names are filtered"
complete "$HEPCTL --datastore=dir:$T/ds get gnp "
expect_out "allow-ssh" "--datastore=DS counts too (GlobalNetworkPolicy names)"
complete "$HEPCTL -c $T/hostendpoint.conf get hep "
expect_out "other-1" "without --datastore, the datastore of the --config settings file"
complete "$HEPCTL -d dir:$T/ds delete hep web-1 "
expect_out "$(lines db-1 web-1)" "delete takes several names"
complete "$HEPCTL -d dir:$T/ds label hep web-1 "
expect_out "" "label takes one name, then a label"
complete "$HEPCTL -d dir:$T/ds patch heps "
expect_out "$(lines db-1 web-1)" "patch takes a name"
complete "$HEPCTL -d dir:$T/ds get np "
expect_out "np-default" "NetworkPolicy names of namespace default"
complete "$HEPCTL -d dir:$T/ds get np -n prod "
expect_out "np-prod" "with -n, of that namespace"
complete "$HEPCTL -d dir:$T/ds get np -A "
expect_out "$(lines np-default np-prod)" "with -A, of every namespace"
complete "$HEPCTL -d dir:$T/no-such-dir get hep "
expect_out "" "a datastore that does not exist offers no names"
expect_err "" "and says nothing"

# Options, per command: every option of each command's usage line.
for c in $commands; do
        usage=$("$HEPCTL" "$c" --help | sed -n '2,/^$/p' | grep -oE '\-\-[a-z][a-z-]*' | sort -u)
        complete "$HEPCTL $c --"
        for o in $usage; do
                expect_true "printf '%s\\n' \"\$OUT\" | grep -qx -- '$o'" "'hepctl $c --' offers $o"
        done
done
complete "$HEPCTL apply --sk"
expect_out "--skip-empty" "--skip-exists is create's alone"
complete "$HEPCTL get hep -o "
expect_out "$(lines custom-columns= json ps wide yaml)" "get's output formats"
complete "$HEPCTL status --output "
expect_out "$(lines json table)" "status's output formats"
complete "$HEPCTL explain --output "
expect_out "$(lines json table)" "explain's output formats"
complete "$HEPCTL explain --direction "
expect_out "$(lines forward in out)" "explain's directions"
complete "$HEPCTL explain --proto icmp"
expect_out "$(lines icmp icmpv6)" "explain's protocols"
complete "$HEPCTL get hep --output=ya"
expect_out "yaml" "--output=VALUE"
mkdir -p "$T/dsdir/sub"
complete "$HEPCTL -d dir:$T/dsdir/s"
expect_true "printf '%s\\n' \"\$OUT\" | grep -qxE '(dir:)?$T/dsdir/sub'" "--datastore dir: completes directories"
complete "$HEPCTL --datastore "
expect_out "dir:" "--datastore offers dir:"

# hostendpointd: every option of its --help, and option values.
complete "$DAEMON --"
for o in $("$DAEMON" --help | grep -oE '\-\-[a-z][a-z-]*' | sort -u); do
        expect_true "printf '%s\\n' \"\$OUT\" | grep -qx -- '$o'" "'hostendpointd --' offers $o"
done
complete "$DAEMON --log-level "
expect_out "$(lines debug err info notice warning)" "hostendpointd's log levels"
complete "$DAEMON --bus s"
expect_out "$(lines session system)" "hostendpointd's buses"

# bash-completion loads a command's completion on demand from
# completions/COMMAND: as installed, hepctl and hostendpointd (a link).
if [ -r "$REAL" ]; then
        mkdir -p "$T/bc/completions"
        cp "$SCRIPT" "$T/bc/completions/hepctl"
        ln -s hepctl "$T/bc/completions/hostendpointd"
        for c in hepctl hostendpointd; do
                run env BASH_COMPLETION_USER_DIR="$T/bc" bash --norc --noprofile -c \
                        ". '$REAL'; __load_completion $c && complete -p $c"
                expect_out "complete -F _$c $c" "bash-completion loads the completion of $c from completions/$c"
        done
else
        echo "bash-completion is not installed: its loading of completions/hepctl is not checked"
fi
