/*
 * driftdiff/live.h: a container that is running now, read from /proc.
 *
 * dd_live_open() takes a snapshot of the container one of whose processes
 * is PID: its root directory (/proc/PID/root, opened once on purpose and
 * then walked like any rootfs), its mounts (/proc/PID/mountinfo), every
 * process in its PID namespace with its executable (opened through
 * /proc/N/exe and hashed, never run), its sockets (/proc/PID/net/tcp,
 * tcp6, udp, udp6) and its first process's environment. Nothing in the
 * container is executed or loaded, and no container engine is asked.
 *
 * What a snapshot cannot see: processes that exited before it was taken,
 * connections opened and closed between two snapshots, and processes
 * hidden in a nested PID namespace of their own.
 *
 * Reading other processes' /proc needs root (CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH); what cannot be read is recorded as such.
 */
#ifndef DRIFTDIFF_LIVE_H
#define DRIFTDIFF_LIVE_H

#include "common.h"
#include "target.h"
#include "tree.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dd_live_options {
	unsigned version;
	const char *proc;       /* the procfs to read; NULL: "/proc" (a DaemonSet: "/host/proc") */
	bool include_mounts;    /* walk volumes and bind mounts too (never proc, sys, dev) */
};
#define DD_LIVE_OPTIONS_VERSION 1
#define DD_LIVE_OPTIONS_INIT { DD_LIVE_OPTIONS_VERSION, NULL, false }

/* Process flags. */
#define DD_LIVE_EXE_DELETED 0x1u   /* the executable was unlinked after exec */
#define DD_LIVE_EXE_MEMFD 0x2u     /* runs from memory (memfd_create) */
#define DD_LIVE_EXE_OUTSIDE 0x4u   /* the executable is outside the container's root */
#define DD_LIVE_TTY 0x8u           /* has a controlling terminal (interactive) */
#define DD_LIVE_INIT 0x10u         /* the container's first process */
#define DD_LIVE_OTHER_ROOT 0x20u   /* its root directory is not the container's */

struct dd_live_process {
	int pid;                  /* as the reader's procfs numbers it */
	int nspid;                /* in the container's PID namespace; 0 unknown */
	int ppid;                 /* parent, as the reader numbers it; 0 for none */
	uint32_t uid, euid, gid;
	int64_t start_time;       /* Unix seconds */
	const char *comm;         /* the kernel's short name (attacker-chosen) */
	const char *const *argv;  /* the command line (attacker-chosen bytes) */
	size_t argc;
	const char *exe;          /* container path of the executable, bytes; NULL unknown */
	size_t exe_len;
	const char *exe_raw;      /* the link /proc/N/exe as the kernel showed it; NULL unknown */
	bool has_sha256;          /* the executable's content was read */
	unsigned char sha256[32];
	uint64_t exe_size;
	uint32_t flags;           /* DD_LIVE_* */
	const char *error;        /* why the executable could not be read, or NULL */
};

struct dd_live_socket {
	const char *proto;        /* "tcp" or "udp" */
	int family;               /* 4 or 6 */
	char local[48];           /* address, as inet_ntop writes it */
	uint16_t local_port;
	char remote[48];
	uint16_t remote_port;
	const char *state;        /* "listen", "established", "unconnected", ... */
	bool listening;           /* TCP LISTEN, or a bound unconnected UDP socket */
	uint32_t uid;
	uint64_t inode;
	int pid;                  /* a process holding it (reader's numbering), 0 unknown */
};

struct dd_live_mount {
	const char *path;         /* where, in the container; bytes */
	size_t path_len;
	const char *fstype;
	const char *source;       /* mountinfo's "mount source" */
	const char *root;         /* the mounted directory within its filesystem */
	bool ro;
	bool pseudo;              /* proc, sysfs, devpts, mqueue, cgroup...: the runtime's own */
	bool walked;              /* dd_live_read_root() goes into it (include_mounts) */
};

/* How a process's executable compares with the image. */
enum dd_live_exe_state {
	DD_LIVE_EXE_IMAGE = 1,    /* the image's file, same content */
	DD_LIVE_EXE_MODIFIED,     /* the image has the path with other content (or not as a file) */
	DD_LIVE_EXE_ADDED,        /* not in the image */
	DD_LIVE_EXE_GONE,         /* deleted after it started, or memfd: nothing on disk */
	DD_LIVE_EXE_FOREIGN,      /* outside the container's root */
	DD_LIVE_EXE_UNKNOWN,      /* could not be read (a kernel thread, no permission, exited) */
};
/* "image", "modified", "added", "gone", "foreign", "unknown". */
DD_API const char *dd_live_exe_state_name(enum dd_live_exe_state s);

struct dd_live;

/*
 * Snapshot the container of process PID. Fails when PID does not exist or
 * its root cannot be opened; a process or socket that cannot be read is a
 * warning, not a failure.
 */
DD_API int dd_live_open(struct dd_live **out, struct dd_ctx *ctx, int pid,
			const struct dd_live_options *opts);
DD_API void dd_live_free(struct dd_live *live);

DD_API int dd_live_pid(const struct dd_live *live);
/* "/proc/PID/root": the container's root, for dd_live_read_root() and messages. */
DD_API const char *dd_live_root_path(const struct dd_live *live);

/* The processes, in pid order. */
DD_API size_t dd_live_process_count(const struct dd_live *live);
DD_API const struct dd_live_process *dd_live_process(const struct dd_live *live, size_t i);
DD_API size_t dd_live_socket_count(const struct dd_live *live);
DD_API const struct dd_live_socket *dd_live_socket(const struct dd_live *live, size_t i);
DD_API size_t dd_live_mount_count(const struct dd_live *live);
DD_API const struct dd_live_mount *dd_live_mount(const struct dd_live *live, size_t i);
/* The first process's environment, "NAME=value" strings (bytes); *N receives the count. */
DD_API const char *const *dd_live_environ(const struct dd_live *live, size_t *n);
DD_API size_t dd_live_warning_count(const struct dd_live *live);
DD_API const char *dd_live_warning(const struct dd_live *live, size_t i);

/* Compare a process's executable with IMAGE, the image's tree. */
DD_API enum dd_live_exe_state dd_live_exe_check(const struct dd_live_process *p,
						const struct dd_tree *image);

/*
 * Open P's executable through /proc/N/exe for reading (the file that
 * runs, even deleted); -1 with errno when the process is gone or the file
 * is not a regular file. Never executed; the caller closes it.
 */
DD_API int dd_live_open_exe(const struct dd_live *live, const struct dd_live_process *p);

/*
 * Walk the container's root filesystem through /proc/PID/root. Mount
 * points inside it (volumes, bind mounts, the runtime's /proc, /sys,
 * /dev, /etc/hosts...) are not walked; with include_mounts, only the
 * runtime's pseudo filesystems are left out. A mount point appears in the
 * tree flagged DD_ENTRY_MOUNTPOINT, so what the image has below it is not
 * reported as deleted.
 */
DD_API int dd_live_read_root(struct dd_tree **out, struct dd_ctx *ctx, const struct dd_live *live,
			     const struct dd_target_options *opts);

/*
 * The process of a container named by its ID, as containerd, Docker,
 * CRI-O or Podman record it on the host: ID is a full ID or a unique
 * prefix of at least 4 characters, optionally as kubectl prints it
 * ("containerd://ID", "docker://ID", "cri-o://ID"). HOST_ROOT prefixes
 * every state path (NULL or "/" on the host; "/host" in a pod that mounts
 * the host's /run there). *BUNDLE receives the runtime's bundle directory
 * holding config.json when there is one (free() it), else NULL.
 */
DD_API int dd_container_resolve(struct dd_ctx *ctx, const char *id, const char *host_root, int *pid,
				char **bundle);

#ifdef __cplusplus
}
#endif
#endif
