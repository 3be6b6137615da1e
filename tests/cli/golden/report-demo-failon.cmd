report
--fail-on
critical
fixtures/demo
fixtures/demo-container.tar.gz
