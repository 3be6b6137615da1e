inspect
--format
json
fixtures/docker-legacy.tar
