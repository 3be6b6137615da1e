inspect
--ref
latest
fixtures/oci-umoci
