report
--format
text
fixtures/demo
fixtures/demo-container.tar.gz
