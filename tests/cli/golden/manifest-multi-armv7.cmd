manifest
--platform
linux/arm/v7
fixtures/oci-multi
