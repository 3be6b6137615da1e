/*
 * The rule table: every finding driftdiff can raise. Ids are stable; the
 * table's order is SARIF's ruleIndex. man/driftdiff-rules.7 documents each.
 */
#include <string.h>

#include "private.h"

#define R(id, fam, sev, title, desc, help, attack) \
	{ id, fam, DD_SEVERITY_##sev, title, desc, help, attack }

static const struct dd_rule rules[] = {
	/* binary drift */
	R("DD-BIN-001", "binary", HIGH, "Executable added",
	  "A file that is an ELF binary, a script with a #! line, or has an execute bit was added to the container and is not part of the image. Critical in /tmp, /var/tmp, /dev/shm or /run, under a hidden name, or named like a system binary.",
	  "Find out what dropped it (the container's processes, an exploited service), compare its hash with threat intelligence, and rebuild the container from the image.",
	  "T1105"),
	R("DD-BIN-002", "binary", HIGH, "Image executable modified or replaced",
	  "An executable that the image ships has different content, a file became executable, or an executable replaced another type of file.",
	  "Treat the binary as compromised: collect it, compare it with the image's copy, and rebuild the container from the image.",
	  "T1554"),
	R("DD-BIN-003", "binary", HIGH, "Path redirected to an added executable",
	  "A symlink now points at an executable that the image does not have, so programs that run the old path run the dropped one.",
	  "Collect the link and its target; restore the image's entry.",
	  "T1574"),
	/* package drift */
	R("DD-PKG-001", "package", MEDIUM, "Package installed",
	  "A package that the image does not have was installed in the running container (a runtime apt-get, apk add, pip or npm install).",
	  "Containers should be rebuilt, not patched: find who installed it and why, and add it to the image if it is needed.",
	  "T1072"),
	R("DD-PKG-002", "package", LOW, "Package removed",
	  "A package of the image was removed from the container.",
	  "Check whether security tooling or logging was removed.",
	  "T1562"),
	R("DD-PKG-003", "package", LOW, "Package upgraded",
	  "A package of the image has a newer version in the container.",
	  "Upgrades belong in the image build; rebuild and redeploy.",
	  NULL),
	R("DD-PKG-004", "package", HIGH, "Package downgraded",
	  "A package of the image has an older version in the container, which can bring back fixed vulnerabilities.",
	  "Find out who downgraded it; rebuild the container from the image.",
	  "T1562"),
	R("DD-PKG-005", "package", HIGH, "Packaged file tampered",
	  "A file installed by a package differs from the image (or from the package's recorded checksum) while the package itself is unchanged: it was modified outside the package manager.",
	  "Collect the file and compare it with the package's copy; treat the container as compromised.",
	  "T1554"),
	R("DD-PKG-006", "package", INFO, "Package database not readable",
	  "A package database exists but driftdiff cannot parse it, so package drift in it is not reported.",
	  "Inspect that package manager's state by hand.",
	  NULL),
	/* privilege drift */
	R("DD-PRIV-001", "privilege", HIGH, "setuid or setgid bit added",
	  "A file gained the setuid or setgid bit, or a setuid/setgid file's content changed: a classic way to keep root.",
	  "Remove the bit, find who set it, and check the file's content against the image.",
	  "T1548.001"),
	R("DD-PRIV-002", "privilege", HIGH, "File capabilities added or widened",
	  "The security.capability attribute of a file was added or now grants more, giving it privileges without setuid.",
	  "Compare the capabilities with the image's (getcap), and remove what the image does not set.",
	  "T1548"),
	R("DD-PRIV-003", "privilege", HIGH, "Hard link to a setuid or setgid file",
	  "A new hard link points at a setuid or setgid binary, keeping a privileged copy around under another name.",
	  "Remove the link and find who made it.",
	  "T1548.001"),
	R("DD-PRIV-004", "privilege", MEDIUM, "System directory made world-writable",
	  "A directory outside /tmp-like locations became writable by every user without the sticky bit.",
	  "Restore the image's mode.",
	  "T1222.002"),
	R("DD-PRIV-005", "privilege", MEDIUM, "Ownership of a system file changed",
	  "A file under a system path (/bin, /sbin, /lib, /usr, /etc) changed owner or group.",
	  "Restore the image's owner and find who changed it.",
	  "T1222.002"),
	/* persistence and credentials */
	R("DD-PERS-001", "persistence", HIGH, "Account database changed",
	  "/etc/passwd, /etc/shadow, /etc/group or /etc/gshadow differ from the image.",
	  "Diff the file against the image's copy; remove accounts the image does not define.",
	  "T1136.001"),
	R("DD-PERS-002", "persistence", CRITICAL, "New account with uid 0",
	  "An account with user id 0 (root privileges) that the image does not define was added.",
	  "Remove the account, then investigate the container as compromised.",
	  "T1136.001"),
	R("DD-PERS-003", "persistence", HIGH, "sudo configuration changed",
	  "/etc/sudoers or a file in /etc/sudoers.d differs from the image.",
	  "Restore the image's sudo configuration.",
	  "T1548.003"),
	R("DD-PERS-004", "persistence", HIGH, "Scheduled task or service added or changed",
	  "A cron table, systemd unit, init script or at job differs from the image.",
	  "Read the job or unit and remove what the image does not ship.",
	  "T1053"),
	R("DD-PERS-005", "persistence", HIGH, "SSH authorized keys changed",
	  "An authorized_keys file differs from the image: someone can log in with a new key.",
	  "Remove the keys the image does not ship.",
	  "T1098.004"),
	R("DD-PERS-006", "persistence", CRITICAL, "Dynamic linker preload changed",
	  "/etc/ld.so.preload (or the linker configuration) differs from the image: every program now loads the listed libraries.",
	  "Collect the preloaded libraries; treat the container as compromised.",
	  "T1574.006"),
	R("DD-PERS-007", "persistence", MEDIUM, "Shell startup file changed",
	  "A shell profile or rc file (/etc/profile, ~/.bashrc, ...) differs from the image: commands run at every login.",
	  "Read the added commands; restore the image's file.",
	  "T1546.004"),
	R("DD-PERS-008", "persistence", HIGH, "PAM configuration or module changed",
	  "A PAM configuration file or module differs from the image, which can capture or bypass authentication.",
	  "Restore the image's PAM stack and collect any added module.",
	  "T1556.003"),
	R("DD-PERS-009", "persistence", MEDIUM, "Name resolution configuration changed",
	  "A file that decides name resolution (/etc/nsswitch.conf, /etc/hosts or /etc/resolv.conf when not managed by the runtime) differs from the image.",
	  "Check for redirected hosts.",
	  "T1565.001"),
	/* interactive and tooling evidence */
	R("DD-INT-001", "interactive", MEDIUM, "Shell history present",
	  "A shell history file was written in the container: someone ran an interactive shell.",
	  "Read the history; it is evidence of what was done.",
	  "T1059.004"),
	R("DD-INT-002", "interactive", LOW, "Package manager used at run time",
	  "Package manager caches, lists or logs changed in the container, the trace of a runtime install.",
	  "Find the command that ran it (history, process tree).",
	  "T1072"),
	R("DD-INT-003", "interactive", MEDIUM, "Compiler or network tool added",
	  "A compiler, debugger or network tool (gcc, cc, gdb, nc, ncat, socat, nmap, curl, wget, tcpdump, ...) appeared in the container.",
	  "Immutable containers do not need build or recon tools; find who added them.",
	  "T1105"),
	/* anti-forensics */
	R("DD-AF-001", "anti-forensics", HIGH, "Content changed with size and mtime preserved",
	  "The file's content differs from the image while its size and modification time are unchanged: tools that compare only metadata (docker diff) miss this, which is why an attacker does it.",
	  "Treat as deliberate tampering; collect the file and look for timestomping of other files.",
	  "T1070.006"),
	R("DD-AF-002", "anti-forensics", MEDIUM, "Modification time set back",
	  "A modified file's mtime is older than the image's copy, or than the layer that wrote it: the clock of the file was turned back.",
	  "Treat timestamps in this container as unreliable.",
	  "T1070.006"),
	R("DD-AF-003", "anti-forensics", MEDIUM, "Whiteout-like or device file in the container",
	  "A file named like an overlay or OCI whiteout (.wh.*), or a device node, appeared in the container's filesystem, where neither belongs.",
	  "Check what hid behind the name; device nodes in a container are a way out of it.",
	  "T1564"),
	R("DD-AF-004", "anti-forensics", MEDIUM, "Log or history deleted",
	  "A log file or history file of the image was deleted or emptied.",
	  "Recover what you can from the image and central logging.",
	  "T1070"),
	/* configuration drift (--config) */
	R("DD-CFG-001", "config", MEDIUM, "Environment differs from the image",
	  "The container's environment adds, removes or changes variables that the image config sets.",
	  "Check the new values; secrets and proxies are common.",
	  NULL),
	R("DD-CFG-002", "config", HIGH, "Entrypoint or command differs from the image",
	  "The container runs a different entrypoint or command than the image defines.",
	  "Make sure the override is the deployment's own.",
	  "T1609"),
	R("DD-CFG-003", "config", MEDIUM, "User or working directory differs from the image",
	  "The container runs as another user (root instead of the image's) or in another directory.",
	  "Run as the image's user.",
	  NULL),
	R("DD-CFG-004", "config", LOW, "Exposed ports differ from the image",
	  "The container publishes or exposes ports that the image does not declare.",
	  "Close what is not needed.",
	  NULL),
	R("DD-CFG-005", "config", CRITICAL, "Privileged container",
	  "The container runs privileged: it has every capability and the host's devices.",
	  "Run unprivileged; add single capabilities only where needed.",
	  "T1611"),
	R("DD-CFG-006", "config", HIGH, "Capabilities added",
	  "The container was given capabilities beyond the runtime's default set.",
	  "Drop what is not needed.",
	  "T1611"),
	R("DD-CFG-007", "config", HIGH, "Host namespace shared",
	  "The container shares the host's PID, IPC, network or UTS namespace.",
	  "Use the container's own namespaces.",
	  "T1611"),
	R("DD-CFG-008", "config", CRITICAL, "Sensitive host path mounted",
	  "The container mounts the container runtime's socket, the host's root, /etc, /proc or /sys, or another sensitive host path.",
	  "Remove the mount: it is a way out of the container.",
	  "T1611"),
	R("DD-CFG-009", "config", LOW, "Writable root filesystem or no-new-privileges missing",
	  "The root filesystem is writable (readOnlyRootFilesystem not set) or no-new-privileges is not set, which is what made this drift possible.",
	  "Run with a read-only root filesystem and no-new-privileges.",
	  NULL),
	R("DD-CFG-010", "config", LOW, "Container image referenced by a mutable tag",
	  "The container's image is named by a tag rather than a digest, so what runs can change under the same name.",
	  "Pin images by digest.",
	  NULL),
	R("DD-CFG-011", "config", HIGH, "Container runs another image",
	  "The runtime configuration names an image ID that is neither the config nor the manifest digest of the image given, so the container was not started from it.",
	  "Compare against the image the container really runs, and find out why it differs.",
	  "T1525"),
	/* digest verification (driftdiff verify) */
	R("DD-DIG-001", "digest", HIGH, "Image digest not approved",
	  "The image's manifest digest is not among the approved digests.",
	  "Deploy only approved images.",
	  "T1525"),
	R("DD-DIG-002", "digest", LOW, "Image reference without a digest",
	  "The image is known only by a tag, which can be moved to other content.",
	  "Pin images by digest.",
	  NULL),
	/* generic drift: every change that no finding above covers */
	R("DD-DRIFT-001", "drift", LOW, "File added",
	  "A path exists in the container that the image does not have.",
	  "Expected runtime writes (logs, caches) belong in an ignore file; anything else is drift.",
	  NULL),
	R("DD-DRIFT-002", "drift", MEDIUM, "File modified",
	  "A path from the image has different content or attributes in the container.",
	  "Check the attributes listed as changed; rebuild rather than patch a running container.",
	  NULL),
	R("DD-DRIFT-003", "drift", LOW, "File deleted",
	  "A path from the image is missing from the container.",
	  "Deleted logs, history or tools can hide activity; check what was removed.",
	  "T1070.004"),
	R("DD-DRIFT-004", "drift", MEDIUM, "File type changed",
	  "A path changed type (e.g. a file replaced by a symlink), which can redirect what the image's programs read or run.",
	  "Look at what the new entry points to or contains.",
	  NULL),
	R("DD-DRIFT-005", "drift", MEDIUM, "File could not be read",
	  "driftdiff could not read the file's content, so it cannot tell whether it drifted.",
	  "Run again with enough privileges to read the whole root filesystem.",
	  NULL),
};

const struct dd_rule *dd_rules(size_t *n)
{
	*n = DD_ARRAY_SIZE(rules);
	return rules;
}

const struct dd_rule *dd_rule_find(const char *id)
{
	size_t i;

	for (i = 0; id && i < DD_ARRAY_SIZE(rules); i++)
		if (!strcmp(rules[i].id, id))
			return &rules[i];
	return NULL;
}

const struct dd_rule *dd__change_rule(const struct dd_change *c)
{
	switch (c->kind) {
	case DD_CHANGE_ADDED: return dd_rule_find("DD-DRIFT-001");
	case DD_CHANGE_DELETED: return dd_rule_find("DD-DRIFT-003");
	case DD_CHANGE_TYPE_CHANGED: return dd_rule_find("DD-DRIFT-004");
	case DD_CHANGE_UNREADABLE: return dd_rule_find("DD-DRIFT-005");
	case DD_CHANGE_MODIFIED: break;
	}
	return dd_rule_find("DD-DRIFT-002");
}
