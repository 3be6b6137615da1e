manifest
fixtures/demo
