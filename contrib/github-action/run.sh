#!/usr/bin/env bash
# driftdiff GitHub Action, the report step: how TARGET drifted from IMAGE.
#
# Writes the SARIF log for code scanning, appends a markdown summary to the
# job summary, and records the exit status as the step's outputs; exits with
# driftdiff's own status (0 no drift at or above fail-on, 1 drift, 2 error).
# action.yml runs it so that the status is kept without ending the job
# before the SARIF is uploaded, and fails the job in its last step.
#
# It needs nothing of GitHub but the files named below, so it runs anywhere:
#
#   GITHUB_STEP_SUMMARY=/tmp/summary.md GITHUB_OUTPUT=/tmp/out \
#   DRIFTDIFF=build/cli/driftdiff DD_IMAGE=fixtures/demo \
#   DD_TARGET=fixtures/demo-container.tar.gz contrib/github-action/run.sh
#
# Environment (defaults in brackets):
#   DD_IMAGE             the image: OCI layout, oci-archive, docker save tar
#                        or saved manifest (required)
#   DD_TARGET            rootfs dir, export tar, second image or saved
#                        manifest (required)
#   DD_REF, DD_TARGET_REF  --ref and --target-ref, when an image holds several
#   DD_CONFIG            --config: docker inspect JSON or OCI config.json
#   DD_FAIL_ON           --fail-on [high]
#   DD_POLICY            --policy FILE
#   DD_IGNORE            ignore files, one per line (each an --ignore FILE)
#   DD_SARIF_FILE        where the SARIF log goes [driftdiff.sarif]
#   DD_CATEGORY          --sarif-category (use the same for upload-sarif)
#   DRIFTDIFF            the driftdiff binary [driftdiff]
#   GITHUB_STEP_SUMMARY  the markdown report is appended here (skipped if unset)
#   GITHUB_OUTPUT        exit-code=, sarif-file= and sarif-written= are
#                        appended here (skipped if unset)
set -u

DRIFTDIFF=${DRIFTDIFF:-driftdiff}
FAIL_ON=${DD_FAIL_ON:-high}
SARIF=${DD_SARIF_FILE:-driftdiff.sarif}

output() {
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"
	fi
}

summary() {
	if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
		cat >> "$GITHUB_STEP_SUMMARY"
	else
		cat > /dev/null
	fi
}

finish() {
	output exit-code "$1"
	output sarif-file "$SARIF"
	if [ -s "$SARIF" ] && [ "$1" -le 1 ]; then
		output sarif-written true
	else
		output sarif-written false
	fi
	exit "$1"
}

if [ -z "${DD_IMAGE:-}" ] || [ -z "${DD_TARGET:-}" ]; then
	echo "::error title=driftdiff::the inputs image and target are required" >&2
	# shellcheck disable=SC2016 # the backquotes are markdown
	printf '## driftdiff: error\n\nThe inputs `image` and `target` are required.\n' | summary
	finish 2
fi

# The options both reports share.
args=(--quiet --fail-on "$FAIL_ON")
[ -n "${DD_REF:-}" ] && args+=(--ref "$DD_REF")
[ -n "${DD_TARGET_REF:-}" ] && args+=(--target-ref "$DD_TARGET_REF")
[ -n "${DD_CONFIG:-}" ] && args+=(--config "$DD_CONFIG")
[ -n "${DD_POLICY:-}" ] && args+=(--policy "$DD_POLICY")
while IFS= read -r f; do
	# Blank lines and surrounding blanks are left out, as YAML block scalars leave them.
	f="${f#"${f%%[![:space:]]*}"}"
	f="${f%"${f##*[![:space:]]}"}"
	[ -n "$f" ] && args+=(--ignore "$f")
done <<< "${DD_IGNORE:-}"

sarif_args=()
[ -n "${DD_CATEGORY:-}" ] && sarif_args+=(--sarif-category "$DD_CATEGORY")

mkdir -p "$(dirname -- "$SARIF")"
rc=0
"$DRIFTDIFF" report --format sarif --output "$SARIF" ${sarif_args[@]+"${sarif_args[@]}"} "${args[@]}" \
	-- "$DD_IMAGE" "$DD_TARGET" || rc=$?

if [ "$rc" -le 1 ]; then
	# The same comparison again, as markdown; the image's tree is cached by then.
	md=$("$DRIFTDIFF" report --format markdown "${args[@]}" -- "$DD_IMAGE" "$DD_TARGET")
	mdrc=$?
	if [ "$mdrc" -le 1 ]; then
		printf '%s\n\n' "$md" | summary
	else
		printf '## driftdiff: error\n\nThe markdown report failed (exit status %s); the SARIF log was written.\n' \
			"$mdrc" | summary
	fi
fi

case $rc in
0) echo "driftdiff: no drift at or above $FAIL_ON" ;;
1) echo "::error title=driftdiff::drift at or above $FAIL_ON: $DD_TARGET against $DD_IMAGE (see the job summary and code scanning)" ;;
*)
	echo "::error title=driftdiff::driftdiff failed with exit status $rc (see its message above)"
	# shellcheck disable=SC2016 # the backquotes are markdown
	printf '## driftdiff: error\n\n`driftdiff report` exited with status %s: no report was written. See the job log.\n' \
		"$rc" | summary
	;;
esac
finish "$rc"
