/* OS shim: safe opens below a directory fd. */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#ifdef __linux__
#include <linux/openat2.h>
#endif

#include "os.h"

#define SAFE_FLAGS (O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)

/* Component-wise fallback: every intermediate directory opened O_NOFOLLOW. */
static int open_walk(int dirfd, const char *rel, int flags)
{
	char *copy = strdup(rel), *p, *slash;
	int fd = -1, cur = dirfd, next, saved;

	if (!copy)
		return -1;
	p = copy;
	for (;;) {
		while (*p == '/')
			p++;
		slash = strchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
		if (strcmp(p, "..") == 0) {
			errno = EXDEV;
			goto out;
		}
		next = openat(cur, p, O_RDONLY | O_DIRECTORY | SAFE_FLAGS);
		if (next < 0)
			goto out;
		if (cur != dirfd)
			close(cur);
		cur = next;
		p = slash + 1;
	}
	if (strcmp(p, "..") == 0) {
		errno = EXDEV;
		goto out;
	}
	fd = openat(cur, *p ? p : ".", flags | SAFE_FLAGS);
out:
	saved = errno;
	if (cur != dirfd)
		close(cur);
	free(copy);
	errno = saved;
	return fd;
}

int dd__open_beneath(int dirfd, const char *rel, int flags)
{
#if defined(__linux__) && defined(SYS_openat2)
	static int have_openat2 = 1;
	struct open_how how;
	int fd;

	if (have_openat2) {
		memset(&how, 0, sizeof(how));
		how.flags = (uint64_t)(flags | SAFE_FLAGS);
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
		fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
		/* ENOSYS: old kernel; EPERM: a seccomp filter. Walk instead. */
		have_openat2 = 0;
	}
#endif
	return open_walk(dirfd, rel, flags);
}

int dd__open_regular(int dirfd, const char *rel, struct stat *st)
{
	const char *slash = strrchr(rel, '/');
	char *dir = NULL;
	struct stat pre;
	int pfd = dirfd, fd = -1, saved;

	if (slash) {
		dir = strndup(rel, (size_t)(slash - rel));
		if (!dir)
			return -1;
		pfd = *dir ? dd__open_beneath(dirfd, dir, O_RDONLY | O_DIRECTORY) : dirfd;
		if (pfd < 0)
			goto out;
		rel = slash + 1;
	}
	/*
	 * Look before opening: opening a device can have side effects even
	 * with O_NONBLOCK, so only a regular file is ever opened.
	 */
	if (fstatat(pfd, rel, &pre, AT_SYMLINK_NOFOLLOW) != 0)
		goto out;
	if (!S_ISREG(pre.st_mode)) {
		errno = S_ISLNK(pre.st_mode) ? ELOOP : S_ISDIR(pre.st_mode) ? EISDIR : EINVAL;
		goto out;
	}
	fd = openat(pfd, rel, O_RDONLY | SAFE_FLAGS);
	if (fd < 0)
		goto out;
	/* The same inode as looked at, and still a regular file. */
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) ||
	    st->st_ino != pre.st_ino || st->st_dev != pre.st_dev) {
		close(fd);
		fd = -1;
		errno = EAGAIN;
		goto out;
	}
	/* Reads should block normally from here on. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		close(fd);
		fd = -1;
	}
out:
	saved = errno;
	if (pfd >= 0 && pfd != dirfd)
		close(pfd);
	free(dir);
	errno = saved;
	return fd;
}

void dd__thread_nice(int incr)
{
#if defined(__linux__) && defined(SYS_gettid)
	id_t tid = (id_t)syscall(SYS_gettid);
	int cur;

	errno = 0;
	cur = getpriority(PRIO_PROCESS, tid);
	if (errno == 0)
		(void)setpriority(PRIO_PROCESS, tid, cur + incr);
#else
	(void)incr;
#endif
}
