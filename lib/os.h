/*
 * The small set of OS calls that differ between systems. Linux gets
 * openat2(2) with RESOLVE_BENEATH where the kernel has it; everything else
 * walks components with O_NOFOLLOW, which is as safe, only slower.
 */
#ifndef DD_OS_H
#define DD_OS_H

#include <sys/stat.h>

/*
 * Open REL (relative, '/'-separated) below DIRFD without following any
 * symlink and without leaving DIRFD. FLAGS are open(2) flags; O_NOFOLLOW,
 * O_CLOEXEC and O_NONBLOCK are always added. Returns an fd or -1 with errno.
 */
int dd__open_beneath(int dirfd, const char *rel, int flags);

/*
 * Open REL below DIRFD as a regular file for reading and fill *ST. A
 * symlink, FIFO, device, socket or directory is refused with errno set to
 * ELOOP, or EINVAL for non-regular files, before anything blocks on it.
 */
int dd__open_regular(int dirfd, const char *rel, struct stat *st);

/*
 * Lower the calling thread's priority by INCR (nice) where the system
 * keeps one per thread (Linux); elsewhere do nothing, as it would be the
 * whole process's.
 */
void dd__thread_nice(int incr);

#endif
