# bash completion for gsctl, installed as
# share/bash-completion/completions/gsctl.
#
# It knows nothing of gsctl's commands itself: gsctl's hidden `__complete`
# command answers from the command table (commands, options, what kind of
# argument comes next) and asks gsd for group and file names, with a short
# timeout and no error output, so a missing daemon only means fewer matches.

_gsctl() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local gsctl=${COMP_WORDS[0]:-gsctl}
    local IFS=$'\n'
    COMPREPLY=()

    # The words before the cursor: --socket and --timeout (with their values)
    # go on to gsctl, so that names come from the daemon the line talks to.
    local -a pass=() args=()
    local cmd="" w i options_done=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ -z $options_done ]]; then
            case $w in
                --) options_done=1; continue ;;
                --socket|--timeout)
                    pass+=("$w" "${COMP_WORDS[i + 1]}"); ((i++)); continue ;;
                --socket=*|--timeout=*) pass+=("$w"); continue ;;
                -*) continue ;;
            esac
        fi
        if [[ -z $cmd ]]; then cmd=$w; else args+=("$w"); fi
    done

    case $prev in
        --socket) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --timeout) return ;;
    esac
    if [[ $cur == -* && -z $options_done ]]; then
        COMPREPLY=($(compgen -W "$("$gsctl" __complete options "$cmd" 2>/dev/null)" -- "$cur"))
        return
    fi
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$("$gsctl" __complete commands 2>/dev/null)" -- "$cur"))
        return
    fi

    local kind
    kind=$("$gsctl" __complete arg "$cmd" "${#args[@]}" 2>/dev/null)
    case $kind in
        group)
            COMPREPLY=($(compgen -W "$("$gsctl" "${pass[@]}" __complete groups 2>/dev/null)" -- "$cur")) ;;
        file_name)
            COMPREPLY=($(compgen -W "$("$gsctl" "${pass[@]}" __complete files "${args[0]}" 2>/dev/null)" -- "$cur")) ;;
        command)
            COMPREPLY=($(compgen -W "$("$gsctl" __complete commands 2>/dev/null)" -- "$cur")) ;;
        path)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}

complete -F _gsctl gsctl
