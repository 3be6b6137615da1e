report
--no-default-ignores
--all
fixtures/demo
fixtures/demo-container.tar.gz
