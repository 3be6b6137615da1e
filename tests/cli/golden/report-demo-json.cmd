report
--format
json
fixtures/demo
fixtures/demo-container.tar.gz
