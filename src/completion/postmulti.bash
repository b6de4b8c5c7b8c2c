# bash completion for postmulti(1)                          -*- shell-script -*-
#
# Installed as /usr/share/bash-completion/completions/postmulti, or loaded
# by hand with:   source <(postmulti --completions bash)
#
# Self-contained: works with or without the bash-completion package.
# Instance names and groups are read at completion time from
# `postmulti -l -j` (one JSON object per line), parsed with sed; a
# postmulti without -j (Postfix's own before 3.11) is read through `-l`.

# Prints one line per instance: NAME<TAB>GROUP<TAB>ENABLED<TAB>CONFIG_DIRECTORY,
# the primary first, "-" for a missing name or group.
_postmulti_instances()
{
    local pm=$1 json
    json=$("$pm" -l -j 2>/dev/null)
    if [[ $json == '{'* ]]; then
        # A string body is any run of non-quote, non-backslash bytes and
        # backslash escapes; \" and \\ are undone, other escapes kept.
        local s='\(\([^"\\]\|\\.\)*\)'
        printf '%s\n' "$json" | sed -n \
            -e "s/^{\"name\": \"$s\",\"group\": \"$s\",\"enabled\": \"\([yn]\)\",\"config_directory\": \"$s\"}\$/\1\t\3\t\5\t\6/" \
            -e 's/\\\\/\x01/g; s/\\"/"/g; s/\x01/\\/g; p'
    else
        # "%-15s %-15s %-9s %s": three words, then the directory.
        "$pm" -l 2>/dev/null | awk '{
            name = $1; group = $2; enabled = $3
            sub(/^[^ ]+ +[^ ]+ +[^ ]+ +/, "")
            printf "%s\t%s\t%s\t%s\n", name, group, enabled, $0
        }'
    fi
}

# Prints the words to offer for an option value: -i (names, "-" for the
# primary, and the configuration directory of nameless secondaries, or
# every configuration directory when the word starts with "/"), -g (groups),
# -G (groups and "-").
_postmulti_values()
{
    local pm=$1 opt=$2 cur=$3 name group enabled dir n=0
    local -a out=()
    local -A seen=()
    [[ $opt == i ]] && [[ $cur != /* ]] && out+=(-)
    while IFS=$'\t' read -r name group enabled dir; do
        case $opt in
        i)
            if [[ $cur == /* ]]; then
                out+=("$dir")
            elif [[ $name != - ]]; then
                out+=("$name")
            elif ((n > 0)); then
                out+=("$dir")
            fi
            ;;
        g | G)
            if [[ $group != - ]] && [[ -z ${seen[$group]} ]]; then
                seen[$group]=1
                out+=("$group")
            fi
            ;;
        esac
        n=$((n + 1))
    done < <(_postmulti_instances "$pm")
    [[ $opt == G ]] && out+=(-)
    ((${#out[@]})) && printf '%s\n' "${out[@]}"
}

_postmulti()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()

    # The postmulti to ask: the one being completed, else /usr/sbin's.
    local pm=${COMP_WORDS[0]}
    if ! type -P -- "$pm" >/dev/null 2>&1; then
        pm=/usr/sbin/postmulti
    fi

    # Read the words before the cursor the way getopt(3) with "+" does:
    # clustered flags, attached or separate values, "--" and the first
    # operand end the options.
    local mode= action= selection= assigned= opts_done= want_value=
    local -a operands=()
    local i=1 w j c
    while ((i < COMP_CWORD)); do
        w=${COMP_WORDS[i]}
        if [[ -n $opts_done ]]; then
            operands+=("$w")
        elif [[ $w == -- ]]; then
            opts_done=1
        elif [[ $w == --?* ]]; then
            : # --version, --completions: handled below
        elif [[ $w == -?* ]]; then
            for ((j = 1; j < ${#w}; j++)); do
                c=${w:j:1}
                case $c in
                l | p | x) mode=$c ;;
                a) selection=a ;;
                e | g | i | G | I)
                    local value=${w:j+1}
                    if [[ -z $value ]]; then
                        ((i++))
                        if ((i >= COMP_CWORD)); then
                            want_value=$c
                            break
                        fi
                        value=${COMP_WORDS[i]}
                    fi
                    case $c in
                    e) mode=e action=$value ;;
                    g | i) selection=$c ;;
                    G | I) assigned+=$c ;;
                    esac
                    break
                    ;;
                esac
            done
        else
            opts_done=1
            operands+=("$w")
        fi
        ((i++))
    done

    # The value of an option given as a separate word.
    case $want_value in
    e)
        COMPREPLY=($(compgen -W 'create destroy import deport enable disable assign init' -- "$cur"))
        return
        ;;
    i | g | G)
        local IFS=$'\n'
        COMPREPLY=($(compgen -W "$(_postmulti_values "$pm" "$want_value" "$cur")" -- "$cur"))
        return
        ;;
    I)
        local names=postfix-
        [[ $action == assign ]] && names+=' -'
        COMPREPLY=($(compgen -W "$names" -- "$cur"))
        [[ ${COMPREPLY[*]} == postfix- ]] && compopt -o nospace 2>/dev/null
        return
        ;;
    esac

    if [[ -z $opts_done ]]; then
        # The extensions, as the only first argument.
        if ((COMP_CWORD == 1)) && [[ $cur == --* ]]; then
            COMPREPLY=($(compgen -W '--version --completions' -- "$cur"))
            return
        fi
        if ((COMP_CWORD == 2)) && [[ $prev == --completions ]]; then
            COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur"))
            return
        fi
        ((COMP_CWORD >= 2)) && [[ ${COMP_WORDS[1]} == --@(version|completions) ]] && return

        # A value attached to its option: -ipostfix-o, -lgm, -ecr.
        if [[ $cur =~ ^-([ajlpRvx]*)([egiG])(.+)$ ]]; then
            local head=-${BASH_REMATCH[1]}${BASH_REMATCH[2]} opt=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]} v
            local -a words=()
            if [[ $opt == e ]]; then
                words=(create destroy import deport enable disable assign init)
            else
                local IFS=$'\n'
                words=($(_postmulti_values "$pm" "$opt" "$value"))
            fi
            for v in "${words[@]}"; do
                [[ $v == "$value"* ]] && COMPREPLY+=("$head$v")
            done
            return
        fi

        # Options that can still make sense here.
        if [[ $cur == -* ]] || { [[ -z $cur ]] && [[ -z $mode ]]; }; then
            local -a offer=()
            [[ -z $selection ]] && offer+=(-a)
            [[ -z $mode ]] && offer+=(-e)
            [[ -z $selection ]] && offer+=(-g -i)
            [[ -z $mode || $mode == l ]] && offer+=(-j)
            [[ -z $mode ]] && offer+=(-l -p)
            [[ -z $mode || $mode == [lx] ]] && offer+=(-R)
            offer+=(-v)
            [[ -z $mode ]] && offer+=(-x)
            if [[ -z $mode || $action == @(create|import|assign) ]]; then
                [[ $assigned != *G* ]] && offer+=(-G)
                [[ $assigned != *I* ]] && offer+=(-I)
            fi
            ((COMP_CWORD == 1)) && offer+=(--version --completions)
            COMPREPLY=($(compgen -W "${offer[*]}" -- "$cur"))
            return
        fi
    fi

    # Operands.
    local n=${#operands[@]}
    case $mode in
    e)
        local -a params=()
        case $action in
        create) params=(config_directory queue_directory data_directory) ;;
        import) params=(config_directory) ;;
        *) return ;;
        esac
        # COMP_WORDBREAKS splits "name=value" into "name", "=", "value".
        local param= value
        if [[ $cur == = ]]; then
            param=$prev value=
        elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
            param=${COMP_WORDS[COMP_CWORD - 2]} value=$cur
        elif [[ $cur == *=* ]]; then
            param=${cur%%=*} value=${cur#*=}
        fi
        if [[ -n $param ]]; then
            local p
            for p in "${params[@]}"; do
                if [[ $p == "$param" ]]; then
                    local IFS=$'\n'
                    compopt -o filenames -o nospace 2>/dev/null
                    COMPREPLY=($(compgen -d -- "$value"))
                fi
            done
            return
        fi
        # Offer each directory parameter not given yet.
        local -a left=()
        local p o given
        for p in "${params[@]}"; do
            given=
            for o in "${operands[@]}"; do
                [[ $o == "$p" || $o == "$p"=* ]] && given=1
            done
            [[ -n $given ]] || left+=("$p=")
        done
        COMPREPLY=($(compgen -W "${left[*]}" -- "$cur"))
        compopt -o nospace 2>/dev/null
        ;;
    p)
        if ((n == 0)); then
            COMPREPLY=($(compgen -W 'start stop reload status flush check abort drain quick-stop set-permissions upgrade-configuration tls logrotate' -- "$cur"))
        elif ((n == 1)) && [[ ${operands[0]} == tls ]]; then
            COMPREPLY=($(compgen -W 'enable-client enable-server new-server-key new-server-cert deploy-server-cert output-server-csr output-server-tlsa all-default-client all-default-server' -- "$cur"))
        fi
        ;;
    x)
        if ((n == 0)); then
            local IFS=$'\n'
            COMPREPLY=($(compgen -c -- "$cur"))
        else
            compopt -o default 2>/dev/null
        fi
        ;;
    esac
}

complete -F _postmulti postmulti
