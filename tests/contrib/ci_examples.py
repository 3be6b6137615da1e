#!/usr/bin/env python3
"""The CI integrations in contrib/: the GitHub Action, its example workflow,
the GitLab CI template and its Code Quality conversion, and docs/ci.md.

Offline: the YAML is parsed and checked for consistency (declared inputs,
step ids, permissions, the upload-sarif step, artifacts:reports:codequality),
and every shell script in it passes `bash -n`. Then the scripts run for
real on the demo fixtures: the action's steps as GitHub runs them (bash -eo
pipefail, the inputs as environment variables), the GitLab job's scripts,
the jq conversion (cross-checked against the SARIF report), and the
commands docs/ci.md quotes, with the exit statuses it says.

Exit status: 0 pass, 1 fail, 77 skip (no python3-yaml)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import ddtest  # noqa: E402

try:
    import yaml
except ImportError:
    print("SKIP: python3-yaml is not installed")
    sys.exit(ddtest.SKIP)

ROOT = os.path.abspath(ddtest.SOURCE_ROOT)
FIXTURES = os.path.abspath(ddtest.FIXTURES)
EXE = os.path.abspath(ddtest.EXE)
ACTION_DIR = os.path.join(ROOT, "contrib", "github-action")
ACTION = os.path.join(ACTION_DIR, "action.yml")
RUN_SH = os.path.join(ACTION_DIR, "run.sh")
EXAMPLE = os.path.join(ACTION_DIR, "example-workflow.yml")
GITLAB = os.path.join(ROOT, "contrib", "gitlab", "driftdiff.gitlab-ci.yml")
CQ_JQ = os.path.join(ROOT, "contrib", "gitlab", "codequality.jq")
DOC = os.path.join(ROOT, "docs", "ci.md")
DEMO = os.path.join(FIXTURES, "demo")
DEMO_TARGET = os.path.join(FIXTURES, "demo-container.tar.gz")
JQ = shutil.which("jq")
CQ_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}
CQ_MAP = {"info": "info", "low": "minor", "medium": "major", "high": "critical",
          "critical": "blocker"}
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)

c = ddtest.Checker()
TMP = tempfile.mkdtemp(prefix="dd-ci-")
# A directory with `driftdiff` in it, for PATH: the scripts look it up there.
BIN = os.path.join(TMP, "bin")
os.mkdir(BIN)
os.symlink(EXE, os.path.join(BIN, "driftdiff"))
PATH = BIN + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def placeholders(script):
    """${{ ... }} expressions replaced by a plain word, as bash will see a value."""
    return EXPR.sub("PLACEHOLDER", script)


def bash_n(script, what, shell="bash"):
    """The script parses; and passes shellcheck at warning level when it is installed."""
    p = subprocess.run([shell, "-n"], input=script, capture_output=True, text=True,
                       check=False)
    c.check(p.returncode == 0, f"{what}: {shell} -n: {p.stderr.strip()}")
    if shutil.which("shellcheck"):
        p = subprocess.run(["shellcheck", "-S", "warning", "-s", shell, "-"], input=script,
                           capture_output=True, text=True, check=False)
        c.check(p.returncode == 0, f"{what}: shellcheck -s {shell}: {p.stdout.strip()}")


def sh(script, env, cwd, shell=("bash", "--noprofile", "--norc", "-eo", "pipefail")):
    """Run a script as a CI runner does; returns (status, stdout, stderr)."""
    full = {"PATH": PATH, "HOME": os.environ.get("HOME", TMP), "LC_ALL": "C.UTF-8"}
    for k in ("XDG_CACHE_HOME", "DD_WRAPPER"):
        if k in os.environ:
            full[k] = os.environ[k]
    full.update(env)
    p = subprocess.run([*shell, "-c", script], env=full, cwd=cwd, capture_output=True,
                       text=True, timeout=300, check=False)
    return p.returncode, p.stdout, p.stderr


def outputs(path):
    """key=value lines of a GITHUB_OUTPUT file."""
    out = {}
    if os.path.exists(path):
        for line in read(path).splitlines():
            k, _, v = line.partition("=")
            out[k] = v
    return out


def jq(program_args, data):
    p = subprocess.run([JQ, *program_args], input=data, capture_output=True, check=False,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def codequality(report_bytes, what):
    rc, out, err = jq(["-f", CQ_JQ], report_bytes)
    if not c.check(rc == 0, f"{what}: jq -f codequality.jq exits 0 ({rc}: {err.strip()})"):
        return None
    try:
        return json.loads(out)
    except ValueError as e:
        c.check(False, f"{what}: codequality.jq writes JSON ({e})")
        return None


def check_cq_shape(issues, what):
    if not c.check(isinstance(issues, list), f"{what}: the Code Quality report is an array"):
        return False
    fps = []
    for i, x in enumerate(issues):
        ok = (isinstance(x, dict)
              and isinstance(x.get("description"), str) and x["description"]
              and isinstance(x.get("check_name"), str) and x["check_name"].startswith("DD-")
              and isinstance(x.get("fingerprint"), str) and x["fingerprint"]
              and x.get("severity") in CQ_SEVERITIES
              and isinstance(x.get("location"), dict)
              and isinstance(x["location"].get("path"), str) and x["location"]["path"]
              and not x["location"]["path"].startswith("/")
              and x["location"].get("lines", {}).get("begin") == 1)
        c.check(ok, f"{what}: issue {i} has the Code Quality keys and values: {x}")
        if isinstance(x, dict):
            fps.append(x.get("fingerprint"))
    c.check(len(fps) == len(set(fps)), f"{what}: fingerprints are unique: {fps}")
    return True


def sarif_unsuppressed(sarif):
    return sorted((r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
                  for r in sarif["runs"][0]["results"] if not r.get("suppressions"))


# ---------------------------------------------------------------- action.yml
action = load(ACTION)
action_text = read(ACTION)
c.check(isinstance(action, dict) and action.get("runs", {}).get("using") == "composite",
        "action.yml: runs.using is composite")
inputs = action.get("inputs") or {}
for name, default in (("image", None), ("target", None), ("fail-on", "high"),
                      ("policy", ""), ("ignore", ""), ("sarif-file", "driftdiff.sarif"),
                      ("category", ""), ("install", "build")):
    c.check(name in inputs, f"action.yml: input {name} is declared")
    if name in inputs and default is not None:
        c.check(str(inputs[name].get("default")) == default,
                f"action.yml: input {name} defaults to {default!r}: {inputs[name].get('default')!r}")
for name in ("image", "target"):
    c.check(inputs.get(name, {}).get("required") is True, f"action.yml: input {name} is required")
for name, spec in inputs.items():
    c.check(isinstance(spec, dict) and spec.get("description"),
            f"action.yml: input {name} has a description")

used = set()
# Expressions: ${{ ... }} anywhere, and the steps' if: conditions (braces optional).
exprs = EXPR.findall(action_text) + [str(s["if"]) for s in action.get("runs", {}).get("steps") or []
                                     if "if" in s]
for expr in exprs:
    for name in re.findall(r"\binputs\.([A-Za-z0-9_-]+)", expr):
        used.add(name)
        c.check(name in inputs, f"action.yml: ${{{{ inputs.{name} }}}} is a declared input")
unused = set(inputs) - used
c.check(not unused, f"action.yml: every declared input is used: {sorted(unused)}")

steps = action.get("runs", {}).get("steps") or []
c.check(len(steps) >= 3, "action.yml: has its steps")
ids = {s.get("id") for s in steps if s.get("id")}
for name in re.findall(r"\bsteps\.([A-Za-z0-9_-]+)\.outputs", action_text):
    c.check(name in ids, f"action.yml: steps.{name} is the id of a step")
outs = action.get("outputs") or {}
for name in ("exit-code", "sarif-file"):
    c.check(name in outs and "steps.report.outputs." + name in str(outs[name].get("value")),
            f"action.yml: output {name} comes from the report step")

run_steps = [s for s in steps if "run" in s]
for s in run_steps:
    what = "action.yml: step " + str(s.get("name") or s.get("id"))
    c.check(s.get("shell") == "bash", f"{what}: composite run steps need shell: bash")
    bash_n(placeholders(s["run"]), what)
    # Inputs reach the scripts through env, never pasted into them.
    c.check("inputs." not in s["run"], f"{what}: no ${{{{ inputs.* }}}} inside the script")
bash_n(read(RUN_SH), "run.sh")

uploads = [s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
if c.check(len(uploads) == 1, "action.yml: one step uses github/codeql-action/upload-sarif"):
    up = uploads[0]
    c.check(str(up["uses"]).endswith("@v3"), "action.yml: upload-sarif@v3")
    w = up.get("with") or {}
    c.check(re.fullmatch(r"\$\{\{\s*inputs\.sarif-file\s*\}\}", str(w.get("sarif_file", ""))),
            f"action.yml: upload-sarif gets sarif_file: ${{{{ inputs.sarif-file }}}}: {w}")
    c.check(re.fullmatch(r"\$\{\{\s*inputs\.category\s*\}\}", str(w.get("category", ""))),
            f"action.yml: upload-sarif gets category: ${{{{ inputs.category }}}}: {w}")
    c.check("always()" in str(up.get("if", "")),
            "action.yml: the upload runs even when an earlier step failed (always())")
    idx = steps.index(up)
    report = [s for s in steps if s.get("id") == "report"]
    c.check(report and steps.index(report[0]) < idx, "action.yml: the report step comes before the upload")
    gate = steps[-1]
    c.check(idx < len(steps) - 1 and "run" in gate and "always()" in str(gate.get("if", "")),
            "action.yml: a last step, after the upload, gates on the exit status")

step = {s.get("id"): s for s in steps}
# The install step with install: none, as GitHub runs it.
if "install" in step:
    ins = step["install"]
    gh_out = os.path.join(TMP, "install.out")
    rc, out, err = sh(ins["run"], {"DD_INSTALL": "none", "DD_SOURCE": ROOT, "GITHUB_OUTPUT": gh_out,
                                   "RUNNER_TEMP": TMP}, TMP)
    c.check(rc == 0 and outputs(gh_out).get("driftdiff") == os.path.join(BIN, "driftdiff"),
            f"install step, none: finds driftdiff on PATH ({rc}: {err.strip()} {outputs(gh_out)})")
    rc, out, err = sh(ins["run"], {"DD_INSTALL": "maybe", "GITHUB_OUTPUT": gh_out, "RUNNER_TEMP": TMP}, TMP)
    c.check(rc != 0 and "install must be" in out, f"install step: an unknown install value fails ({rc})")
    c.check("meson setup" in ins["run"] and "apt-get install" in ins["run"]
            and "-Dtests=false" in ins["run"], "install step, build: apt-get and meson setup")
    c.check("github.action_path" in str(ins.get("env", {}).get("DD_SOURCE", "")),
            "install step: builds from the action's own repository checkout")

# The report step: run.sh under bash -eo pipefail, the inputs as env.
def report_env(work, **kw):
    env = {"DRIFTDIFF": EXE, "DD_IMAGE": DEMO, "DD_TARGET": DEMO_TARGET, "DD_REF": "",
           "DD_TARGET_REF": "", "DD_CONFIG": "", "DD_FAIL_ON": "high", "DD_POLICY": "",
           "DD_IGNORE": "", "DD_SARIF_FILE": os.path.join(work, "out", "driftdiff.sarif"),
           "DD_CATEGORY": "", "GITHUB_ACTION_PATH": ACTION_DIR,
           "GITHUB_OUTPUT": os.path.join(work, "output"),
           "GITHUB_STEP_SUMMARY": os.path.join(work, "summary.md")}
    env.update(kw)
    return env


def run_report(name, step_script=True, **kw):
    work = os.path.join(TMP, name)
    os.makedirs(work)
    env = report_env(work, **kw)
    if step_script and "report" in step:
        rc, out, err = sh(step["report"]["run"], env, work)
    else:
        rc, out, err = sh('exec bash "$GITHUB_ACTION_PATH/run.sh"', env, work)
    summary = read(env["GITHUB_STEP_SUMMARY"]) if os.path.exists(env["GITHUB_STEP_SUMMARY"]) else ""
    return rc, out, err, outputs(env["GITHUB_OUTPUT"]), summary, env


rc, out, err, o, summary, env = run_report("direct", step_script=False)
c.check(rc == 1, f"run.sh on the demo: exit status 1 (drift at high): {rc} {err.strip()}")
c.check(o.get("exit-code") == "1", f"run.sh: GITHUB_OUTPUT has exit-code=1: {o}")
c.check(o.get("sarif-file") == env["DD_SARIF_FILE"], f"run.sh: GITHUB_OUTPUT has sarif-file: {o}")
c.check(o.get("sarif-written") == "true", f"run.sh: GITHUB_OUTPUT has sarif-written=true: {o}")
sarif = None
try:
    with open(env["DD_SARIF_FILE"], encoding="utf-8") as f:
        sarif = json.load(f)
except (OSError, ValueError) as e:
    c.check(False, f"run.sh: the SARIF file is JSON ({e})")
if sarif is not None:
    c.check(sarif.get("version") == "2.1.0", "run.sh: the SARIF log is version 2.1.0")
    c.check(len(sarif["runs"][0]["results"]) > 0, "run.sh: the SARIF log has results")
    c.check(sarif["runs"][0]["automationDetails"]["id"] == "driftdiff/demo-container.tar.gz/",
            f"run.sh: default category: {sarif['runs'][0]['automationDetails']}")
c.check(summary.startswith("## driftdiff: drift found") and "| DD-PERS-002 |" in summary,
        f"run.sh: the markdown report went to the job summary: {summary[:200]!r}")
c.check("::error" in out, "run.sh: drift is an ::error annotation")

rc, out, err, o, summary, env = run_report("step")
c.check(rc == 0, f"report step: drift does not end the step before the upload: {rc} {err.strip()}")
c.check(o.get("exit-code") == "1" and o.get("sarif-written") == "true",
        f"report step: the exit status is kept in the outputs: {o}")
c.check(os.path.exists(env["DD_SARIF_FILE"]) and summary.startswith("## driftdiff: drift found"),
        "report step: SARIF and summary written")

ign = os.path.join(TMP, "ignore")
with open(ign, "w", encoding="utf-8") as f:
    f.write("/app/data/**\n")
pol = os.path.join(TMP, "policy.json")
with open(pol, "w", encoding="utf-8") as f:
    json.dump({"version": 1, "allow": [{"rule": "DD-AF-001", "paths": ["/etc/motd"],
                                        "justification": "motd rewritten at boot"}]}, f)
rc, out, err, o, summary, env = run_report(
    "options", DD_FAIL_ON="never", DD_CATEGORY="drift/web", DD_POLICY=pol,
    DD_IGNORE="\n  " + ign + "  \n\n" + ign + "\n")
c.check(rc == 0 and o.get("exit-code") == "0", f"report step, fail-on never: exit-code=0: {rc} {o} {err.strip()}")
try:
    with open(env["DD_SARIF_FILE"], encoding="utf-8") as f:
        s2 = json.load(f)
    run0 = s2["runs"][0]
    c.check(run0["automationDetails"]["id"] == "drift/web/", f"category: {run0['automationDetails']}")
    c.check(run0["properties"]["summary"]["fail_on"] == "never", "fail-on reaches driftdiff")
    sup = [r for r in run0["results"] if r.get("suppressions")]
    c.check(any(r["ruleId"] == "DD-AF-001" and r["suppressions"][0]["justification"] == "motd rewritten at boot"
                for r in sup), "policy reaches driftdiff: DD-AF-001 suppressed")
    c.check(any(r["suppressions"][0]["justification"].startswith(ign) for r in sup),
            "ignore files reach driftdiff: /app/data/greeting.txt ignored")
except (OSError, ValueError, KeyError, IndexError) as e:
    c.check(False, f"report step with options: SARIF ({e})")
c.check("no drift" in summary, f"fail-on never: the summary says no drift: {summary[:80]!r}")

rc, out, err, o, summary, env = run_report("error", DD_IMAGE=os.path.join(TMP, "no-such-image"))
c.check(rc == 0 and o.get("exit-code") == "2" and o.get("sarif-written") == "false",
        f"report step, unreadable image: exit-code=2, no SARIF to upload: {rc} {o}")
c.check("error" in summary, "report step, error: the summary says so")
rc, out, err, o, summary, env = run_report("missing", DD_IMAGE="")
c.check(o.get("exit-code") == "2", f"report step, no image: exit-code=2: {o}")

# The gate.
if steps and "run" in steps[-1]:
    gate = steps[-1]
    for code, want in (("0", 0), ("1", 1), ("2", 1), ("", 1)):
        rc, out, err = sh(gate["run"], {"DD_RC": code, "DD_FAIL_ON": "high"}, TMP)
        c.check((rc == 0) == (want == 0), f"gate step: exit-code {code!r} -> {'pass' if want == 0 else 'fail'} ({rc})")

# ---------------------------------------------------------- example workflow
wf = load(EXAMPLE)
c.check(isinstance(wf, dict) and (wf.get("on") or wf.get(True)), "example workflow: has triggers")
jobs = wf.get("jobs") or {}
c.check(len(jobs) >= 1, "example workflow: has jobs")
top_perm = wf.get("permissions") or {}
uses_action = []
for jname, job in jobs.items():
    perm = job.get("permissions") or top_perm
    c.check(isinstance(perm, dict) and perm.get("security-events") == "write",
            f"example workflow: job {jname} has security-events: write")
    for s in job.get("steps") or []:
        if "run" in s:
            bash_n(placeholders(s["run"]), f"example workflow: {jname}: {s.get('name')}")
        if str(s.get("uses", "")).rstrip("/").endswith("contrib/github-action"):
            uses_action.append((jname, s))
c.check(uses_action, "example workflow: calls the action")
for jname, s in uses_action:
    w = s.get("with") or {}
    c.check(set(w) <= set(inputs), f"example workflow: {jname}: every with: key is an input: {sorted(set(w) - set(inputs))}")
    c.check("image" in w and "target" in w, f"example workflow: {jname}: gives image and target")
wf_text = read(EXAMPLE)
for what in ("docker build", "docker save", "docker create", "docker export"):
    c.check(what in wf_text, f"example workflow: builds and exports with {what}")

# ------------------------------------------------------------ GitLab template
gl = load(GITLAB)
gl_jobs = {k: v for k, v in (gl or {}).items() if isinstance(v, dict) and "script" in v}
c.check(gl_jobs, "gitlab template: has a job")
cq_jobs = {k: v for k, v in gl_jobs.items()
           if (v.get("artifacts") or {}).get("reports", {}).get("codequality") == "gl-code-quality-report.json"}
c.check(cq_jobs, "gitlab template: a job declares artifacts.reports.codequality: gl-code-quality-report.json")
for jname, job in gl_jobs.items():
    c.check((job.get("artifacts") or {}).get("when") == "always",
            f"gitlab template: {jname}: artifacts are kept when the job fails")
    scripts = []
    for key in ("before_script", "script"):
        v = job.get(key) or []
        scripts += v if isinstance(v, list) else [v]
    full = "\n".join(scripts)
    bash_n(full, f"gitlab template: {jname}")
    bash_n(full, f"gitlab template: {jname}", shell="sh")
    variables = job.get("variables") or {}
    for v in sorted(set(re.findall(r"\$\{?(DRIFTDIFF_[A-Z_]+)", full))):
        c.check(v in variables, f"gitlab template: {jname}: ${v} is declared under variables")
    c.check("contrib/gitlab/codequality.jq" in full and "--format json" in full,
            f"gitlab template: {jname}: driftdiff report --format json through codequality.jq")
    if not JQ:
        continue
    # The job's scripts, run as the runner would (one shell, the variables in
    # the environment), with driftdiff on PATH and this source tree: no apt-get.
    work = os.path.join(TMP, "gitlab-" + jname.strip("."))
    os.makedirs(work)
    env = {k: str(v) for k, v in variables.items()}
    env.update({"DRIFTDIFF_IMAGE": DEMO, "DRIFTDIFF_TARGET": DEMO_TARGET, "DRIFTDIFF_SRC": ROOT,
                "TMPDIR": TMP, "CI_PROJECT_DIR": work})
    rc, out, err = sh(full, env, work, shell=("sh", "-e"))
    c.check(rc == 1, f"gitlab job on the demo: exit status 1 (drift at high): {rc} {err.strip()[-300:]}")
    c.check("apt-get" not in err and "Reading package lists" not in out,
            "gitlab job: nothing installed when driftdiff, jq and the source are there")
    c.check("critical DD-PERS-002 New account with uid 0: /etc/passwd" in out,
            f"gitlab job: the findings are in the log: {out[-400:]!r}")
    try:
        with open(os.path.join(work, "gl-code-quality-report.json"), encoding="utf-8") as f:
            gl_cq = json.load(f)
        with open(os.path.join(work, variables.get("DRIFTDIFF_REPORT", "driftdiff-report.json")),
                  encoding="utf-8") as f:
            gl_report = json.load(f)
        c.check(isinstance(gl_cq, list) and len(gl_cq) > 0, "gitlab job: the Code Quality report has issues")
        c.check(gl_report["summary"]["fail_on"] == "high", "gitlab job: DRIFTDIFF_FAIL_ON reaches driftdiff")
    except (OSError, ValueError, KeyError) as e:
        c.check(False, f"gitlab job: reports written ({e})")
    env["DRIFTDIFF_FAIL_ON"] = "never"
    rc, out, err = sh(full, env, work, shell=("sh", "-e"))
    c.check(rc == 0, f"gitlab job, fail-on never: exit status 0 ({rc}: {err.strip()[-200:]})")
    env["DRIFTDIFF_IMAGE"] = os.path.join(TMP, "no-such-image")
    rc, out, err = sh(full, env, work, shell=("sh", "-e"))
    c.check(rc == 2, f"gitlab job, unreadable image: exit status 2 ({rc})")

# ------------------------------------------------------- codequality.jq
if not JQ:
    print("NOTE: jq not found: the Code Quality conversion and the GitLab job are not run")
else:
    rc, rep, err = ddtest.run("report", "--format", "json", DEMO, DEMO_TARGET)
    c.check(rc == 1, f"driftdiff report --format json on the demo: exit status 1 ({rc}: {err.strip()})")
    rc_s, sar, err = ddtest.run("report", "--format", "sarif", DEMO, DEMO_TARGET)
    report = json.loads(rep)
    issues = codequality(rep, "demo")
    if issues is not None and check_cq_shape(issues, "demo"):
        findings = [f for f in report["findings"] if "suppressed" not in f]
        c.check(len(findings) >= 5, f"demo: the report has findings ({len(findings)})")
        fi = [x for x in issues if not x["check_name"].startswith("DD-DRIFT-")]
        c.check(len(fi) == len(findings), f"demo: one issue per finding: {len(fi)} vs {len(findings)}")
        for x, f in zip(fi, findings):
            c.check(x["check_name"] == f["rule"] and x["severity"] == CQ_MAP[f["severity"]]
                    and x["location"]["path"] == f["paths"][0].lstrip("/")
                    and x["description"].startswith(f["title"])
                    and (f["detail"] is None or f["detail"] in x["description"]),
                    f"demo: issue {x['check_name']} {x['location']['path']} matches its finding {f['rule']} {f['paths']}")
        c.check(all(re.fullmatch(r"[0-9a-f]{16}", x["fingerprint"]) for x in issues),
                "demo: fingerprints are 16 hex digits")
        c.check(sorted((x["check_name"], x["location"]["path"]) for x in issues)
                == sarif_unsuppressed(json.loads(sar)),
                "demo: the issues are the SARIF report's unsuppressed results")
        again = codequality(rep, "demo, again")
        c.check(again == issues, "demo: the conversion is deterministic")

    # With a policy: the allowed finding leaves, and its change stays covered.
    rc, rep_p, err = ddtest.run("report", "--format", "json", "--policy", pol, DEMO, DEMO_TARGET)
    _, sar_p, _ = ddtest.run("report", "--format", "sarif", "--policy", pol, DEMO, DEMO_TARGET)
    issues_p = codequality(rep_p, "demo with a policy")
    if issues_p is not None and issues is not None and check_cq_shape(issues_p, "demo with a policy"):
        c.check(len(issues_p) == len(issues) - 1
                and not any(x["location"]["path"] == "etc/motd" for x in issues_p),
                "demo with a policy: the suppressed finding and its change are left out")
        c.check(sorted((x["check_name"], x["location"]["path"]) for x in issues_p)
                == sarif_unsuppressed(json.loads(sar_p)),
                "demo with a policy: the issues are the SARIF report's unsuppressed results")
        common = {x["fingerprint"] for x in issues} & {x["fingerprint"] for x in issues_p}
        c.check(len(common) == len(issues_p), "fingerprints do not depend on the other issues")

    # Image against image: no findings, every change under its drift rule.
    um = os.path.join(FIXTURES, "oci-umoci")
    rc, rep_i, err = ddtest.run("report", "--format", "json", "--ref", "latest", "--target-ref", "v1", um, um)
    _, sar_i, _ = ddtest.run("report", "--format", "sarif", "--ref", "latest", "--target-ref", "v1", um, um)
    issues_i = codequality(rep_i, "image against image")
    if issues_i is not None and check_cq_shape(issues_i, "image against image"):
        changes = [x for x in json.loads(rep_i)["changes"] if "ignored" not in x]
        c.check(len(issues_i) == len(changes) and len(changes) > 5
                and all(x["check_name"].startswith("DD-DRIFT-00") for x in issues_i),
                f"image against image: one drift issue per change ({len(issues_i)}, {len(changes)})")
        c.check(sorted((x["check_name"], x["location"]["path"]) for x in issues_i)
                == sarif_unsuppressed(json.loads(sar_i)),
                "image against image: the issues are the SARIF report's unsuppressed results")

    # Corner cases: repeats, no path, findings that cover no change.
    synth = {"schema_version": 1, "findings": [
        {"rule": "DD-PERS-002", "family": "persistence", "severity": "critical",
         "title": "New account with uid 0", "paths": ["/etc/passwd"], "detail": "account a",
         "remediation": "r"},
        {"rule": "DD-PERS-002", "family": "persistence", "severity": "critical",
         "title": "New account with uid 0", "paths": ["/etc/passwd"], "detail": "account b",
         "remediation": "r"},
        {"rule": "DD-PERS-002", "family": "persistence", "severity": "critical",
         "title": "New account with uid 0", "paths": ["/etc/passwd"], "detail": "account b",
         "remediation": "r"},
        {"rule": "DD-CFG-003", "family": "config", "severity": "high", "title": "Privileged",
         "paths": [], "detail": None, "remediation": "r"},
        {"rule": "DD-CFG-008", "family": "config", "severity": "medium", "title": "Sensitive mount",
         "paths": ["/data"], "detail": None, "remediation": "r"},
        {"rule": "DD-PKG-001", "family": "package", "severity": "low", "title": "Package installed",
         "paths": ["/var/lib/dpkg/status"], "detail": None, "remediation": "r",
         "package": {"ecosystem": "dpkg", "name": "curl", "version": "7.88", "old_version": None}},
        {"rule": "DD-BIN-001", "family": "binary", "severity": "info", "title": "Executable added",
         "paths": ["/x"], "detail": None, "remediation": "r", "suppressed": "allowed"}],
        "changes": [
            {"path": "/etc/passwd", "kind": "modified", "changed": ["content"], "severity": "medium"},
            {"path": "/data", "kind": "added", "changed": [], "severity": "low"},
            {"path": "/x", "kind": "added", "changed": [], "severity": "high"},
            {"path": "/var/lib/dpkg/status", "kind": "modified", "changed": ["content"], "severity": "medium"},
            {"path": "/var/log/x", "kind": "deleted", "changed": [], "severity": "low", "ignored": "f:1: x"},
            {"path": "/etc/shadow", "kind": "unreadable", "changed": ["mode"], "severity": "medium"}]}
    issues_s = codequality(json.dumps(synth).encode(), "synthetic")
    if issues_s is not None and check_cq_shape(issues_s, "synthetic"):
        names = [(x["check_name"], x["location"]["path"]) for x in issues_s]
        c.check(names == [("DD-PERS-002", "etc/passwd")] * 3
                + [("DD-CFG-003", "."), ("DD-CFG-008", "data"), ("DD-PKG-001", "var/lib/dpkg/status"),
                   ("DD-DRIFT-001", "data"), ("DD-DRIFT-005", "etc/shadow")],
                f"synthetic: findings, then uncovered changes only: {names}")
        fps = [x["fingerprint"] for x in issues_s]
        c.check(fps[0] != fps[1] and fps[2] == fps[1] + "-1",
                f"synthetic: two accounts stay apart, a repeat gets -1: {fps[:3]}")
        c.check(issues_s[5]["description"] == "Package installed: /var/lib/dpkg/status; dpkg package curl 7.88",
                f"synthetic: package description: {issues_s[5]['description']!r}")
        c.check(issues_s[7]["description"] == "File could not be read: /etc/shadow (mode)"
                and issues_s[7]["severity"] == "major",
                f"synthetic: unreadable change: {issues_s[7]}")
    rc, out, err = jq(["-f", CQ_JQ], b'{"schema_version": 1, "findings": [], "changes": []}')
    c.check(rc == 0 and json.loads(out) == [], "no drift: an empty Code Quality report")

# ------------------------------------------------------------------ docs/ci.md
doc = read(DOC)
for what in ("--target-ref", "driftdiff manifest --format manifest", "driftdiff verify --approved",
             "--fail-on", "justification", "expires", "contrib/github-action",
             "contrib/gitlab/driftdiff.gitlab-ci.yml", "security-events: write"):
    c.check(what in doc, f"docs/ci.md: mentions {what}")

# Every option that a driftdiff command line in the docs and examples uses exists.
helps = {}
for sub in ("report", "manifest", "verify", "inspect"):
    rc, out, err = ddtest.run(sub, "--help")
    helps[sub] = out.decode() + err
texts = {"docs/ci.md": doc, "contrib/github-action/README.md": read(os.path.join(ACTION_DIR, "README.md")),
         "contrib/gitlab/driftdiff.gitlab-ci.yml": read(GITLAB), "contrib/github-action/run.sh": read(RUN_SH)}
nopts = 0
for name, text in texts.items():
    text = text.replace("\\\n", " ")
    for m in re.finditer(r'(?:driftdiff|"\$DRIFTDIFF")\s+(report|manifest|verify|inspect)\b([^\n|`]*)', text):
        for opt in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", m.group(2)):
            nopts += 1
            c.check(opt in helps[m.group(1)], f"{name}: driftdiff {m.group(1)} {opt} exists")
c.check(nopts >= 20, f"the docs' driftdiff command lines were found ({nopts} options)")

# The commands that docs/ci.md says were checked, with their exit statuses.
block = doc.split("## Checking these commands", 1)[-1]
m = re.search(r"```sh\n(.*?)```", block, re.S)
cmds = []
if c.check(m, "docs/ci.md: has the fixture commands"):
    cmds = m.group(1).replace("\\\n", " ").splitlines()
docdir = os.path.join(TMP, "doc")
os.mkdir(docdir)
ran = 0
if not JQ and any(re.search(r"\bjq\b", x) for x in cmds):
    print("NOTE: jq not found: the commands of docs/ci.md are not run")
    cmds = []
for line in cmds:
    want = re.search(r"#\s*exit (\d)\s*$", line)
    cmd = line[:want.start()] if want else line
    cmd = cmd.replace("/tmp/", docdir + "/")
    rc, out, err = sh(cmd, {}, ROOT, shell=("bash", "-o", "pipefail"))
    ran += 1
    if want:
        c.check(rc == int(want.group(1)), f"docs/ci.md: `{cmd.strip()}` exits {want.group(1)}: {rc} {err.strip()}")
    else:
        c.check(rc == 0, f"docs/ci.md: `{cmd.strip()}` exits 0: {rc} {err.strip()}")
c.check(ran >= 8 or not JQ, f"docs/ci.md: the fixture commands ran ({ran})")

shutil.rmtree(TMP, ignore_errors=True)
c.done()
