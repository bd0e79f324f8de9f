"""The consent registry's API area: storage, receipts signing, HTTP and wiring."""
