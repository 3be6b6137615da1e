manifest
--format
jsonl
fixtures/oci-whiteouts
