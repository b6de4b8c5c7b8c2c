# fish completion for postmulti(1)
#
# Installed as /usr/share/fish/vendor_completions.d/postmulti.fish, or
# loaded by hand with:   postmulti --completions fish | source
#
# Instance names and groups are read at completion time from
# `postmulti -l -j` (one JSON object per line); a postmulti without -j
# (Postfix's own before 3.11) is read through `-l`.

# Prints one line per instance: NAME<TAB>GROUP<TAB>ENABLED<TAB>CONFIG_DIRECTORY,
# the primary first, "-" for a missing name or group.
function __postmulti_instances --argument-names pm
    set -l json ($pm -l -j 2>/dev/null)
    if string match -q -- '{*' $json[1]
        # A string body is any run of non-quote, non-backslash bytes and
        # backslash escapes; \" and \\ are undone, other escapes kept.
        set -l s '((?:[^"\\\\]|\\\\.)*)'
        string replace -r -f -- '^\{"name": "'$s'","group": "'$s'","enabled": "([yn])","config_directory": "'$s'"\}$' '$1'\t'$2'\t'$3'\t'$4' $json |
            string replace -a -- '\\\\' \x01 | string replace -a -- '\\"' '"' | string replace -a -- \x01 '\\'
    else
        # "%-15s %-15s %-9s %s": three words, then the directory.
        $pm -l 2>/dev/null | awk '{
            name = $1; group = $2; enabled = $3
            sub(/^[^ ]+ +[^ ]+ +[^ ]+ +/, "")
            printf "%s\t%s\t%s\t%s\n", name, group, enabled, $0
        }'
    end
end

# The postmulti to ask: the one being completed, else /usr/sbin's.
function __postmulti_command
    set -l pm (commandline -opc)[1]
    if command -q -- $pm
        echo -- $pm
    else
        echo /usr/sbin/postmulti
    end
end

# Reads the words before the cursor the way getopt(3) with "+" does
# (clustered flags, attached or separate values, "--" and the first operand
# end the options) into variables of the calling function: __pm_mode (l, p,
# x or e), __pm_action, __pm_selection (a, g or i), __pm_assigned (G and/or
# I), __pm_opts_done, __pm_want_value (the option whose separate value is
# being completed), __pm_extension (--version or --completions first) and
# __pm_operands.
function __postmulti_parse --no-scope-shadowing
    set __pm_mode
    set __pm_action
    set __pm_selection
    set __pm_assigned
    set __pm_opts_done
    set __pm_want_value
    set __pm_extension
    set __pm_operands
    set -l words (commandline -opc)
    set -e words[1]
    string match -q -r -- '^--(version|completions)$' $words[1]; and set __pm_extension $words[1]
    while set -q words[1]
        set -l w $words[1]
        set -e words[1]
        if test -n "$__pm_opts_done"
            set -a __pm_operands $w
        else if test "$w" = --
            set __pm_opts_done 1
        else if string match -q -- '--?*' $w
            # --version, --completions: see __pm_extension
        else if string match -q -- '-?*' $w
            for j in (seq 2 (string length -- $w))
                set -l c (string sub -s $j -l 1 -- $w)
                switch $c
                    case l p x
                        set __pm_mode $c
                    case a
                        set __pm_selection a
                    case e g i G I
                        set -l value (string sub -s (math $j + 1) -- $w)
                        if test -z "$value"
                            if not set -q words[1]
                                set __pm_want_value $c
                                break
                            end
                            set value $words[1]
                            set -e words[1]
                        end
                        switch $c
                            case e
                                set __pm_mode e
                                set __pm_action $value
                            case g i
                                set __pm_selection $c
                            case G I
                                set __pm_assigned "$__pm_assigned$c"
                        end
                        break
                end
            end
        else
            set __pm_opts_done 1
            set -a __pm_operands $w
        end
    end
end

# True when option -LETTER can still make sense here.
function __postmulti_offers --argument-names letter
    __postmulti_parse
    test -z "$__pm_opts_done$__pm_want_value$__pm_extension"; or return 1
    switch $letter
        case a g i
            test -z "$__pm_selection"
        case e l p x
            test -z "$__pm_mode"
        case j
            test -z "$__pm_mode" -o "$__pm_mode" = l
        case R
            test -z "$__pm_mode" -o "$__pm_mode" = l -o "$__pm_mode" = x
        case v
            true
        case G I
            test -z "$__pm_mode"; or contains -- "$__pm_action" create import assign; or return 1
            not string match -q -- "*$letter*" "$__pm_assigned"
        case '*'
            false
    end
end

# True when the word being completed is the value of option -LETTER,
# separate (-i NAME) or attached (-iNAME, -lgNAME).
function __postmulti_wants --argument-names letter
    __postmulti_parse
    test -z "$__pm_extension"; or return 1
    test "$__pm_want_value" = $letter; and return 0
    test -z "$__pm_opts_done$__pm_want_value"
    and string match -q -r -- '^-[ajlpRvx]*'$letter'.' (commandline -ct)
end

# The value being completed, without the options attached before it.
function __postmulti_value
    __postmulti_parse
    set -l cur (commandline -ct)
    if test -z "$__pm_want_value"
        set cur (string replace -r -- '^-[ajlpRvx]*[egiGI]' '' $cur)
    end
    echo -- $cur
end

# Prints the words to offer for an option value: -i (names, "-" for the
# primary, and the configuration directory of nameless secondaries, or
# every configuration directory when the word starts with "/"), -g (groups),
# -G (groups and "-"), -I ("postfix-", and "-" with -e assign).
function __postmulti_values --argument-names opt
    set -l cur (__postmulti_value)
    set -l n 0
    set -l seen
    if test $opt = I
        echo postfix-
        __postmulti_parse
        test "$__pm_action" = assign; and echo -- -
        return
    end
    test $opt = i; and not string match -q -- '/*' $cur; and echo -- -
    for entry in (__postmulti_instances (__postmulti_command))
        set -l f (string split \t -- $entry)
        switch $opt
            case i
                if string match -q -- '/*' $cur
                    echo -- $f[4]
                else if test "$f[1]" != -
                    echo -- $f[1]
                else if test $n -gt 0
                    echo -- $f[4]
                end
            case g G
                if test "$f[2]" != -; and not contains -- $f[2] $seen
                    set -a seen $f[2]
                    echo -- $f[2]
                end
        end
        set n (math $n + 1)
    end
    test $opt = G; and echo -- -
end

# True when the word being completed is an operand of mode MODE (and, with
# a second argument, the operand at that 0-based position).
function __postmulti_operand --argument-names want position
    __postmulti_parse
    test -z "$__pm_want_value$__pm_extension" -a "$__pm_mode" = "$want"; or return 1
    # An option word here is still an option, unless the options are done.
    test -n "$__pm_opts_done"; or not string match -q -- '-*' (commandline -ct); or return 1
    test -z "$position"; or test (count $__pm_operands) -eq $position; or return 1
    test "$__pm_mode" != p -o "$position" != 1; or test "$__pm_operands[1]" = tls
end

# After -e create (three) or -e import (config_directory): the name=
# of each directory parameter not given yet, or directories after one.
function __postmulti_params
    __postmulti_parse
    set -l params
    switch "$__pm_action"
        case create
            set params config_directory queue_directory data_directory
        case import
            set params config_directory
    end
    set -l cur (commandline -ct)
    set -l param (string replace -r -- '=.*' '' $cur)
    if string match -q -- '*=*' $cur
        if contains -- $param $params
            __fish_complete_directories (string replace -r -- '^[^=]*=' '' $cur) |
                string replace -r -- '^' $param=
        end
        return
    end
    for p in $params
        string match -q -r -- "^$p(=|\$)" $__pm_operands; or echo -- $p=
    end
end

# After -x: the command, then that command's own completion.
function __postmulti_exec
    __postmulti_parse
    __fish_complete_subcommand --commandline $__pm_operands (commandline -ct)
end

complete -c postmulti -f

# The extensions, as the only first argument.
complete -c postmulti -n 'test (count (commandline -opc)) -eq 1' -l version -d 'print the version and the compiled-in defaults'
complete -c postmulti -n 'test (count (commandline -opc)) -eq 1' -l completions -d 'print a shell completion script'
complete -c postmulti -n 'test (count (commandline -opc)) -eq 2; and test (commandline -opc)[2] = --completions' -a 'bash zsh fish'

# The options, each offered where it can still make sense.
complete -c postmulti -n '__postmulti_offers e' -s e -x -d 'life-cycle action'
complete -c postmulti -n '__postmulti_offers l' -s l -d 'list the instances'
complete -c postmulti -n '__postmulti_offers p' -s p -d 'run a postfix command for each instance'
complete -c postmulti -n '__postmulti_offers x' -s x -d 'run a command for each instance'
complete -c postmulti -n '__postmulti_offers a' -s a -d 'all instances'
complete -c postmulti -n '__postmulti_offers g' -s g -x -d 'the instances of a group'
complete -c postmulti -n '__postmulti_offers i' -s i -x -d 'one instance'
complete -c postmulti -n '__postmulti_offers j' -s j -d 'JSON lines (with -l)'
complete -c postmulti -n '__postmulti_offers R' -s R -d 'reverse order'
complete -c postmulti -n '__postmulti_offers v' -s v -d 'more verbose logging'
complete -c postmulti -n '__postmulti_offers G' -s G -x -d 'assign a group (create, import, assign)'
complete -c postmulti -n '__postmulti_offers I' -s I -x -d 'assign a name (create, import, assign)'

# Their values.
complete -c postmulti -n '__postmulti_wants e' -s e -x -a '
    create\t"create a new instance"
    destroy\t"remove a disabled, stopped secondary instance"
    import\t"manage an existing instance"
    deport\t"stop managing a secondary instance, keeping its files"
    enable\t"let postfix start the instance"
    disable\t"keep postfix from starting the instance"
    assign\t"change the name or group of an instance"
    init\t"turn multi-instance management on"'
complete -c postmulti -n '__postmulti_wants i' -s i -x -a '(__postmulti_values i)' -d instance
complete -c postmulti -n '__postmulti_wants g' -s g -x -a '(__postmulti_values g)' -d group
complete -c postmulti -n '__postmulti_wants G' -s G -x -a '(__postmulti_values G)' -d group
complete -c postmulti -n '__postmulti_wants I' -s I -x -a '(__postmulti_values I)' -d name

# Operands: name=directory after -e create or import, postfix commands (and
# tls subcommands) after -p, a command and its arguments after -x.
complete -c postmulti -n '__postmulti_operand e' -a '(__postmulti_params)'
complete -c postmulti -n '__postmulti_operand p 0' -a '
    start\t"start the enabled instances (check the others)"
    stop\t"stop the enabled instances"
    reload\t"reload the enabled instances"
    status\t"report whether each instance runs"
    flush\t"flush the queues of the enabled instances"
    check\t"check the configuration"
    abort\t"stop at once"
    drain\t"stop accepting mail, deliver the queue, stop"
    quick-stop\t"stop without waiting for deliveries"
    set-permissions\t"set file ownership and permissions"
    upgrade-configuration\t"update main.cf and master.cf"
    tls\t"TLS key and certificate management"
    logrotate\t"rotate the maillog_file"'
complete -c postmulti -n '__postmulti_operand p 1' -a 'enable-client enable-server new-server-key new-server-cert deploy-server-cert output-server-csr output-server-tlsa all-default-client all-default-server'
complete -c postmulti -n '__postmulti_operand x' -a '(__postmulti_exec)'
