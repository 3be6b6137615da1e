# bash completion for driftdiff(1). tests/cli/completion.py checks that the
# options here are the ones `driftdiff COMMAND --help` lists.
_driftdiff()
{
	local cur prev cmd opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "report ps verify rules manifest inspect help --help --version" -- "$cur"))
		return
	fi
	case $cmd in
	report) opts="--all --color --config --container-id --cross-mounts --evidence --fail-on --format --help --ignore --include-mounts --jobs --limit --no-cache --no-default-ignores --no-progress --output --pid --progress --quiet --verbose --platform --policy --proc --ref --runtime-root --sarif-category --show-env-values --target-ref --target-type --upper" ;;
	ps) opts="--container-id --fail-on --format --help --include-mounts --limit --no-cache --output --pid --platform --policy --proc --ref --runtime-root --show-env-values" ;;
	verify) opts="--approved --expect --help --limit --platform --ref" ;;
	rules) opts="--format --help" ;;
	manifest) opts="--format --help --limit --no-progress --output --platform --progress --quiet --ref --verbose" ;;
	inspect) opts="--format --help --limit --no-verify --platform --ref" ;;
	help) COMPREPLY=($(compgen -W "report ps verify rules manifest inspect" -- "$cur")); return ;;
	*) return ;;
	esac
	case $prev in
	--format|-f)
		case $cmd in
		report|ps) COMPREPLY=($(compgen -W "text json sarif markdown" -- "$cur")) ;;
		manifest) COMPREPLY=($(compgen -W "text jsonl manifest" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "text json" -- "$cur")) ;;
		esac
		return ;;
	--fail-on) COMPREPLY=($(compgen -W "any info low medium high critical never" -- "$cur")); return ;;
	--color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
	--target-type|-t) COMPREPLY=($(compgen -W "auto rootfs upper tar image" -- "$cur")); return ;;
	--limit) COMPREPLY=($(compgen -W "max-entries= max-path= max-json= max-json-depth= max-layer-bytes= max-ratio= max-xattr= max-link-hops= max-index-depth= max-layers= max-depth=" -- "$cur")); compopt -o nospace; return ;;
	--upper|-u|--evidence|--runtime-root|--proc) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	# Every PID of this host's /proc: a container's processes are among them.
	--pid) COMPREPLY=($(compgen -W "$(cd /proc 2>/dev/null && printf '%s ' [0-9]*)" -- "$cur")); return ;;
	--ref|-r|--target-ref|--platform|-p|--expect|-e|--sarif-category|--jobs|-j|--container-id) return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _driftdiff driftdiff
