#!/bin/sh
# driftdiff-node-scan: report the drift of every running container on this
# Kubernetes node against the image it runs, from the node's own state.
#
# Runs in the driftdiff DaemonSet (driftdiff-daemonset.yaml). For each
# running container of a pod scheduled on $NODE_NAME it takes the
# containerID and imageID from the Kubernetes API (read-only: list pods)
# and runs
#
#   driftdiff report --container-id <containerID> --runtime-root $HOST_ROOT \
#       --ref <imageID> $CONTENT_STORE
#
# so the image is read from the node's containerd content store, verified,
# and cached by manifest digest ($XDG_CACHE_HOME): a node running 200
# containers of 10 images reads each image once. Reports go to $OUT_DIR as
# <namespace>_<pod>_<container>.json (and .sarif), plus summary.jsonl.
#
# Environment (defaults in brackets):
#   NODE_NAME        this node (the DaemonSet sets it from spec.nodeName)
#   HOST_ROOT        where the host's /run/containerd is mounted [/host]
#   CONTENT_STORE    containerd's content store [/host/var/lib/containerd/io.containerd.content.v1.content]
#   OUT_DIR          where reports go [/var/log/driftdiff]
#   INTERVAL         seconds between scans; 0 scans once and exits [3600]
#   FAIL_ON          severity counted as drift in the summary [high]
#   SARIF            1: also write SARIF (a second walk of the container) [0]
#   PODS_JSON        read the pod list from this file instead of the API (tests)
#   DRIFTDIFF        the driftdiff binary [driftdiff]
set -u

HOST_ROOT=${HOST_ROOT:-/host}
CONTENT_STORE=${CONTENT_STORE:-/host/var/lib/containerd/io.containerd.content.v1.content}
OUT_DIR=${OUT_DIR:-/var/log/driftdiff}
INTERVAL=${INTERVAL:-3600}
FAIL_ON=${FAIL_ON:-high}
DRIFTDIFF=${DRIFTDIFF:-driftdiff}
SA=/var/run/secrets/kubernetes.io/serviceaccount

log() { printf '%s driftdiff-node-scan: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

pods() {
	if [ -n "${PODS_JSON:-}" ]; then
		cat "$PODS_JSON"
		return
	fi
	curl -sSf --cacert "$SA/ca.crt" -H "Authorization: Bearer $(cat "$SA/token")" \
		"https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}/api/v1/pods?fieldSelector=spec.nodeName%3D${NODE_NAME}"
}

# One line per running container: namespace, pod, container, containerID, imageID.
containers() {
	jq -r '.items[] | .metadata.namespace as $ns | .metadata.name as $pod
	       | ((.status.containerStatuses // []) + (.status.initContainerStatuses // [])
	          + (.status.ephemeralContainerStatuses // []))[]
	       | select(.state.running != null and (.containerID // "") != "")
	       | [$ns, $pod, .name, .containerID, .imageID] | @tsv'
}

scan() {
	mkdir -p "$OUT_DIR" || return 1
	summary="$OUT_DIR/summary.jsonl.tmp"
	: > "$summary"
	list=$(pods | containers) || { log "cannot list the pods of node ${NODE_NAME:-?}"; return 1; }
	printf '%s\n' "$list" | while IFS="$(printf '\t')" read -r ns pod name cid image; do
		[ -n "$cid" ] || continue
		case "$cid" in
		containerd://*) ;;
		*) log "$ns/$pod/$name: runtime of $cid not supported (containerd only)"; continue ;;
		esac
		# Names become file names: keep them to what Kubernetes allows anyway.
		base=$(printf '%s_%s_%s' "$ns" "$pod" "$name" | tr -c 'A-Za-z0-9._\n-' '_')
		"$DRIFTDIFF" report --quiet --format json --output "$OUT_DIR/$base.json" \
			--fail-on "$FAIL_ON" --container-id "$cid" --runtime-root "$HOST_ROOT" \
			--ref "$image" "$CONTENT_STORE"
		rc=$?
		if [ "${SARIF:-0}" = 1 ] && [ "$rc" -le 1 ]; then
			"$DRIFTDIFF" report --quiet --format sarif --output "$OUT_DIR/$base.sarif" \
				--sarif-category "driftdiff/$ns/$pod/$name" --container-id "$cid" \
				--runtime-root "$HOST_ROOT" --ref "$image" "$CONTENT_STORE" >/dev/null 2>&1
		fi
		jq -cn --arg ns "$ns" --arg pod "$pod" --arg c "$name" --arg id "$cid" --arg image "$image" \
			--argjson rc "$rc" '{namespace: $ns, pod: $pod, container: $c, container_id: $id,
			image: $image, exit: $rc, drift: ($rc == 1), error: ($rc > 1)}' >> "$summary"
	done
	mv "$summary" "$OUT_DIR/summary.jsonl"
	log "scanned $(wc -l < "$OUT_DIR/summary.jsonl") containers; drift in $(grep -c '"drift":true' "$OUT_DIR/summary.jsonl")"
}

while :; do
	scan
	[ "$INTERVAL" -gt 0 ] || exit 0
	sleep "$INTERVAL"
done
