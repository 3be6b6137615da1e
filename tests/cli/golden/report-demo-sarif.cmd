report
--format
sarif
fixtures/demo
fixtures/demo-container.tar.gz
