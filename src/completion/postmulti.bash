# bash completion for postmulti(1): written with the packaging work
