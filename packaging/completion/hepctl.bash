# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for hepctl(8) and hostendpointd(8), installed as
# completions/hepctl and completions/hostendpointd for bash-completion.
# Resource names come from the datastore the command line names (or the
# default one), through hepctl itself.

_hepctl_commands='create apply replace delete get patch label validate ruleset status explain flows version'
# Every kind name and alias hepctl accepts (policy/kinds.c).
_hepctl_kinds='hostendpoint hostendpoints hep heps
        profile profiles pro pros
        globalnetworkpolicy globalnetworkpolicies gnp gnps
        stagedglobalnetworkpolicy stagedglobalnetworkpolicies sgnp sgnps
        networkpolicy networkpolicies policy policies np pol pols
        tier tiers
        globalnetworkset globalnetworksets gnetsets gns
        felixconfiguration felixconfigurations felixconfig felixconfigs'

# dir:PATH, PATH a directory.
_hepctl_datastore()
{
    if [[ $cur == dir:* ]]; then
        local IFS=$'\n'
        COMPREPLY=($(compgen -d -P dir: -- "${cur#dir:}"))
        compopt -o filenames 2>/dev/null
    else
        COMPREPLY=($(compgen -W 'dir:' -- "$cur"))
    fi
    compopt -o nospace 2>/dev/null
    __ltrim_colon_completions "$cur"
}

# The names of the resources of a kind, as "hepctl get" lists them, from
# the datastore (and namespace) of the command line.
_hepctl_names()
{
    local kind=$1 hepctl=${words[0]/#\~/$HOME} out
    out=$("$hepctl" "${store[@]}" get "$kind" "${namespace[@]}" -o custom-columns=NAME 2>/dev/null) || return
    COMPREPLY=($(compgen -W "$(printf '%s\n' "$out" | sed 1d)" -- "$cur"))
}

_hepctl()
{
    local cur prev words cword split
    _init_completion -s -n : || return

    # What the words before this one say: the command, where resources
    # are, the namespace, and the arguments that are not options.
    local i w command='' store=() namespace=() args=()
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        case $w in
            -d | --datastore | -c | --config)
                ((i + 1 < cword)) && store+=("$w" "${words[i + 1]}")
                ((i++))
                ;;
            --datastore=* | --config=*) store+=("$w") ;;
            -n | --namespace)
                [[ $command ]] && ((i + 1 < cword)) && namespace=(-n "${words[i + 1]}")
                ((i++))
                ;;
            --namespace=*) namespace=("$w") ;;
            -A | --all-namespaces) namespace=(-A) ;;
            -f | --filename | -p | --patch | --type | -o | --output | -l | --selector | --node | -b | --bus | --context)
                [[ $command ]] && ((i++))
                ;;
            -*) ;;
            *)
                if [[ $command ]]; then
                    args+=("$w")
                else
                    command=$w
                fi
                ;;
        esac
    done

    case $prev in
        -d | --datastore)
            _hepctl_datastore
            return
            ;;
        -c | --config)
            _filedir
            return
            ;;
    esac

    if [[ -z $command ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '--datastore --config --help --version' -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$_hepctl_commands" -- "$cur"))
        fi
        return
    fi

    case $prev in
        -f | --filename)
            _filedir '@(yaml|yml|json)'
            return
            ;;
        --direction)
            COMPREPLY=($(compgen -W 'in out forward' -- "$cur"))
            return
            ;;
        --proto)
            COMPREPLY=($(compgen -W 'tcp udp sctp icmp icmpv6' -- "$cur"))
            return
            ;;
        -i | --interface | --out-interface)
            COMPREPLY=($(compgen -W "$(command ls /sys/class/net 2>/dev/null)" -- "$cur"))
            return
            ;;
        --src | --dst | --dport | --sport | --icmp-type)
            return
            ;;
        -o | --output)
            if [[ $command == @(status|explain) ]]; then
                COMPREPLY=($(compgen -W 'table json' -- "$cur"))
            elif [[ $command == flows ]]; then
                COMPREPLY=($(compgen -W 'ps wide json' -- "$cur"))
            else
                COMPREPLY=($(compgen -W 'ps wide yaml json custom-columns=' -- "$cur"))
                [[ ${COMPREPLY-} == *= ]] && compopt -o nospace 2>/dev/null
            fi
            return
            ;;
        -b | --bus)
            COMPREPLY=($(compgen -W 'system session' -- "$cur"))
            return
            ;;
        -a | --action)
            COMPREPLY=($(compgen -W 'allow deny' -- "$cur"))
            return
            ;;
        -i | --interface)
            COMPREPLY=($(compgen -W "$(command ls /sys/class/net 2>/dev/null)" -- "$cur"))
            return
            ;;
        -n | --namespace | -l | --selector | -p | --patch | --type | --node | --context | --poll)
            return
            ;;
    esac

    local common='--datastore --config --help'
    local opts
    case $command in
        create) opts="--filename --recursive --skip-empty --skip-exists --namespace $common" ;;
        apply | replace | validate) opts="--filename --recursive --skip-empty --namespace $common" ;;
        delete) opts="--filename --recursive --skip-empty --skip-not-exists --namespace $common" ;;
        get) opts="--filename --recursive --output --selector --namespace --all-namespaces --export $common" ;;
        patch) opts="--patch --type --namespace $common" ;;
        label) opts="--overwrite --remove --namespace $common" ;;
        ruleset) opts="--node --no-interfaces --staged $common" ;;
        status) opts='--bus --output --help' ;;
        flows) opts='--follow --interface --action --output --bus --help' ;;
        explain) opts="--interface --direction --src --dst --proto --dport --sport --icmp-type --out-interface --bus --node --no-interfaces --output $common" ;;
        version) opts='--config --poll --allow-version-mismatch --help' ;;
        *) return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi

    # KIND, then NAME (get and delete take several; patch and label one).
    case $command in
        get | delete | patch | label)
            if ((${#args[@]} == 0)); then
                COMPREPLY=($(compgen -W "$_hepctl_kinds" -- "$cur"))
            elif [[ $command == @(get|delete) ]] || ((${#args[@]} == 1)); then
                _hepctl_names "${args[0]}"
            fi
            ;;
    esac
} &&
    complete -F _hepctl hepctl

_hostendpointd()
{
    local cur prev words cword split
    _init_completion -s -n : || return

    case $prev in
        -c | --config)
            _filedir
            return
            ;;
        -d | --datastore)
            _hepctl_datastore
            return
            ;;
        --plugin)
            _filedir so
            return
            ;;
        --bus)
            COMPREPLY=($(compgen -W 'system session none' -- "$cur"))
            return
            ;;
        --log-level)
            COMPREPLY=($(compgen -W 'err warning notice info debug' -- "$cur"))
            return
            ;;
        --flow-logs)
            COMPREPLY=($(compgen -W 'yes no' -- "$cur"))
            return
            ;;
        --user)
            COMPREPLY=($(compgen -u -- "$cur"))
            return
            ;;
        -n | --nodename)
            COMPREPLY=($(compgen -W "${HOSTNAME,,}" -- "$cur"))
            return
            ;;
    esac
    [[ $split == true ]] && return

    COMPREPLY=($(compgen -W '--config --datastore --nodename --bus --plugin --log-level
        --flow-logs --user --oneshot --help --version' -- "$cur"))
} &&
    complete -F _hostendpointd hostendpointd

# ex: filetype=sh
