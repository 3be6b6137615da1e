report
--format
markdown
fixtures/demo
fixtures/demo-container.tar.gz
