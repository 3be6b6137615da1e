/*
 * A stand-in for what an attacker runs inside a container, for the live
 * mode tests: built static so it runs in a chroot of the busybox image.
 *
 *   ddproc listen PORT      listen on TCP 0.0.0.0:PORT and wait
 *   ddproc connect PORT     connect to 127.0.0.1:PORT and wait
 *   ddproc pause            just wait
 *   ddproc memfd SELF ARGS  copy the file SELF into a memfd and run it from
 *                           there with ARGS (a fileless payload)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static int tcp(const char *port, int listening)
{
	struct sockaddr_in a;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(port));
	a.sin_addr.s_addr = htonl(listening ? INADDR_ANY : INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (listening)
		return bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8) ? -1 : fd;
	return connect(fd, (struct sockaddr *)&a, sizeof(a)) ? -1 : fd;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "listen")) {
		if (tcp(argv[2], 1) < 0)
			return perror("listen"), 1;
	} else if (argc >= 3 && !strcmp(argv[1], "connect")) {
		if (tcp(argv[2], 0) < 0)
			return perror("connect"), 1;
	} else if (argc >= 3 && !strcmp(argv[1], "memfd")) {
		char buf[65536];
		int in = open(argv[2], O_RDONLY), m = memfd_create("payload", MFD_CLOEXEC);
		ssize_t n;

		if (in < 0 || m < 0)
			return perror("memfd"), 1;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(m, buf, (size_t)n) != n)
				return 1;
		close(in);
		fexecve(m, argv + 3, (char *[]){ NULL });
		return perror("fexecve"), 1;
	} else if (argc < 2 || strcmp(argv[1], "pause")) {
		fprintf(stderr, "usage: ddproc listen|connect PORT | pause | memfd SELF ARGS\n");
		return 2;
	}
	for (;;)
		pause();
}
