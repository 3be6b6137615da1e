#!/usr/bin/env python3
"""contrib/kubernetes, offline: the manifests and the node scan script.

No cluster here, so the manifests are checked against the rules of the
Kubernetes API objects they use (the fields and references that the API
server would refuse or that would make the DaemonSet useless) and against
what this project promises about them: read-only RBAC limited to listing
pods, no privileged container and no cluster-admin, host paths read-only
except the report directory, and mount paths that agree with the scan
script's settings. The scan script then runs against a pod list of a fake
node with a stand-in driftdiff that records how it is called.
"""
import json
import os
import re
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from ddtest import SKIP, SOURCE_ROOT, Checker  # noqa: E402

K8S = os.path.join(SOURCE_ROOT, "contrib", "kubernetes")
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
READ_VERBS = {"get", "list", "watch"}
CAPS_NEEDED = {"SYS_PTRACE", "DAC_READ_SEARCH", "DAC_OVERRIDE"}


def check_manifests(c, docs):
    kinds = {d["kind"]: d for d in docs}
    c.check(set(kinds) == {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet"},
            f"the objects: {sorted(kinds)}")
    for d in docs:
        c.check(isinstance(d.get("apiVersion"), str) and DNS1123.match(d["metadata"]["name"]),
                f"{d['kind']}: apiVersion and a valid name")
    ns = kinds["Namespace"]["metadata"]["name"]
    sa = kinds["ServiceAccount"]["metadata"]
    role = kinds["ClusterRole"]
    c.check(sa["namespace"] == ns, "the service account lives in the namespace")
    rules = role["rules"]
    c.check(all(set(r["verbs"]) <= READ_VERBS and r["resources"] == ["pods"] and r["apiGroups"] == [""]
                for r in rules), f"RBAC is read-only and only on pods: {rules}")
    c.check("*" not in json.dumps(rules), "RBAC has no wildcard")
    binding = kinds["ClusterRoleBinding"]
    c.check(binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                   "name": role["metadata"]["name"]}, "the binding names our role")
    c.check(binding["roleRef"]["name"] not in ("cluster-admin", "admin", "edit"), "no cluster-admin")
    c.check(binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["name"], "namespace": ns}],
            "the binding's subject is our service account")

    ds = kinds["DaemonSet"]
    c.check(ds["apiVersion"] == "apps/v1" and ds["metadata"]["namespace"] == ns, "DaemonSet apps/v1 in our namespace")
    spec = ds["spec"]
    tmpl = spec["template"]
    c.check(all(tmpl["metadata"]["labels"].get(k) == v for k, v in spec["selector"]["matchLabels"].items()),
            "the selector matches the pod template's labels")
    pod = tmpl["spec"]
    c.check(pod["serviceAccountName"] == sa["name"], "the pods run as our service account")
    c.check(pod.get("hostPID") is True, "hostPID: the containers' processes must be visible")
    c.check(not pod.get("hostNetwork") and not pod.get("hostIPC"), "no host network or IPC")
    volumes = {v["name"]: v for v in pod["volumes"]}
    c.check(len(volumes) == len(pod["volumes"]), "volume names are unique")
    (ctr,) = pod["containers"]
    c.check(DNS1123.match(ctr["name"]) and ctr.get("image"), "the container has a name and an image")
    sc = ctr["securityContext"]
    c.check(sc.get("privileged") is False and sc.get("allowPrivilegeEscalation") is False
            and sc.get("readOnlyRootFilesystem") is True, f"not privileged, read-only root: {sc}")
    caps = sc["capabilities"]
    c.check(caps["drop"] == ["ALL"] and set(caps["add"]) == CAPS_NEEDED,
            f"all capabilities dropped but the three reading needs: {caps}")
    for kind in ("requests", "limits"):
        for k, v in ctr["resources"][kind].items():
            c.check(QUANTITY.match(str(v)) is not None, f"resources.{kind}.{k} is a quantity: {v}")
    mounts = {m["name"]: m for m in ctr["volumeMounts"]}
    c.check(set(mounts) <= set(volumes), f"every mount has its volume: {set(mounts) - set(volumes)}")
    c.check(set(volumes) <= set(mounts), f"every volume is mounted: {set(volumes) - set(mounts)}")
    for name, v in volumes.items():
        if "hostPath" in v:
            writable = not mounts[name].get("readOnly")
            c.check(writable == (mounts[name]["mountPath"] == env_of(ctr)["OUT_DIR"]),
                    f"host path {v['hostPath']['path']} is read-only unless it is the report directory")
    env = env_of(ctr)
    node = [e for e in ctr["env"] if e["name"] == "NODE_NAME"]
    c.check(node and node[0]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName",
            "NODE_NAME comes from the downward API")
    by_path = {m["mountPath"]: volumes[n] for n, m in mounts.items()}
    state = by_path.get(env["HOST_ROOT"] + "/run/containerd")
    c.check(state is not None and state["hostPath"]["path"] == "/run/containerd",
            "the host's /run/containerd is where --runtime-root expects it")
    store = by_path.get(env["CONTENT_STORE"])
    c.check(store is not None and store["hostPath"]["path"] == "/var/lib/containerd/io.containerd.content.v1.content",
            "CONTENT_STORE is the mounted containerd content store")
    c.check(env["XDG_CACHE_HOME"] in by_path and "emptyDir" in by_path[env["XDG_CACHE_HOME"]],
            "the manifest cache is a volume of its own (the root filesystem is read-only)")
    c.check(ctr["command"] == ["/usr/local/bin/driftdiff-node-scan"], "the scan script runs")


def env_of(ctr):
    return {e["name"]: e.get("value") for e in ctr["env"]}


PODS = {
    "items": [
        {"metadata": {"namespace": "shop", "name": "web-1"},
         "status": {"containerStatuses": [
             {"name": "nginx", "containerID": "containerd://" + "a" * 64, "state": {"running": {}},
              "imageID": "docker.io/library/nginx@sha256:" + "1" * 64},
             {"name": "sidecar", "containerID": "containerd://" + "b" * 64, "state": {"waiting": {}},
              "imageID": "docker.io/library/envoy@sha256:" + "2" * 64}]}},
        {"metadata": {"namespace": "kube-system", "name": "dns/../x"},
         "status": {"containerStatuses": [
             {"name": "coredns", "containerID": "containerd://" + "c" * 64, "state": {"running": {}},
              "imageID": "registry.k8s.io/coredns@sha256:" + "3" * 64}],
             "initContainerStatuses": [
             {"name": "init", "containerID": "containerd://" + "d" * 64, "state": {"terminated": {}},
              "imageID": "busybox@sha256:" + "4" * 64}]}},
        {"metadata": {"namespace": "legacy", "name": "old"},
         "status": {"containerStatuses": [
             {"name": "app", "containerID": "docker://" + "e" * 64, "state": {"running": {}},
              "imageID": "docker-pullable://app@sha256:" + "5" * 64}]}},
        {"metadata": {"namespace": "shop", "name": "pending"}, "status": {}},
    ]
}

STUB = """#!/bin/sh
# Stands in for driftdiff: records its arguments, writes the --output file,
# and finds drift in the nginx container only.
printf '%s\\n' "$*" >> "$STUB_LOG"
out=""
while [ $# -gt 0 ]; do
	case "$1" in --output) out=$2; shift ;; esac
	shift
done
echo '{}' > "$out"
case "$out" in *nginx*) exit 1 ;; *) exit 0 ;; esac
"""


def check_script(c, tmp):
    script = os.path.join(K8S, "driftdiff-node-scan.sh")
    r = subprocess.run(["sh", "-n", script], capture_output=True, check=False)
    c.check(r.returncode == 0, "the scan script parses: " + r.stderr.decode())
    if subprocess.run(["sh", "-c", "command -v jq"], capture_output=True, check=False).returncode:
        print("note: jq not installed; the scan script's run is not tested")
        return
    pods = os.path.join(tmp, "pods.json")
    with open(pods, "w") as f:
        json.dump(PODS, f)
    stub = os.path.join(tmp, "driftdiff")
    with open(stub, "w") as f:
        f.write(STUB)
    os.chmod(stub, stat.S_IRWXU)
    log = os.path.join(tmp, "calls")
    out = os.path.join(tmp, "out")
    env = dict(os.environ, PODS_JSON=pods, DRIFTDIFF=stub, STUB_LOG=log, OUT_DIR=out, INTERVAL="0",
               HOST_ROOT="/hostfs", CONTENT_STORE="/hostfs/store", NODE_NAME="node-1")
    r = subprocess.run(["sh", script], env=env, capture_output=True, timeout=60, check=False)
    err = r.stderr.decode(errors="replace")
    c.check(r.returncode == 0, f"the scan script exits 0 with INTERVAL=0: {err}")
    with open(log) as f:
        calls = f.read().splitlines()
    c.check(len(calls) == 2, f"two running containerd containers scanned, not the waiting, terminated or docker ones: {calls}")
    nginx = [x for x in calls if "a" * 64 in x]
    c.check(nginx and "--container-id containerd://" + "a" * 64 in nginx[0]
            and "--runtime-root /hostfs" in nginx[0]
            and "--ref docker.io/library/nginx@sha256:" + "1" * 64 + " /hostfs/store" in nginx[0]
            and "--format json" in nginx[0] and "--quiet" in nginx[0],
            f"driftdiff is called with the container, the host root and the image digest: {nginx}")
    c.check("docker://" in err and "not supported" in err, "a docker:// container is skipped with a note")
    files = sorted(os.listdir(out))
    c.check("shop_web-1_nginx.json" in files and "kube-system_dns_.._x_coredns.json" in files
            and not any("/" in x for x in files), f"one report per container, names kept to one component: {files}")
    with open(os.path.join(out, "summary.jsonl")) as f:
        summary = [json.loads(x) for x in f]
    c.check([(s["container"], s["drift"], s["error"]) for s in summary] == [("nginx", True, False), ("coredns", False, False)],
            f"summary.jsonl: {summary}")


def main():
    try:
        import yaml
    except ImportError:
        print("SKIP: python3-yaml is not installed")
        sys.exit(SKIP)
    c = Checker()
    with open(os.path.join(K8S, "driftdiff-daemonset.yaml")) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    check_manifests(c, docs)
    with tempfile.TemporaryDirectory(prefix="dd-k8s-") as tmp:
        check_script(c, tmp)
    c.done()


if __name__ == "__main__":
    main()
