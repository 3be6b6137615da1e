inspect
--no-verify
fixtures/docker-containerd.tar
