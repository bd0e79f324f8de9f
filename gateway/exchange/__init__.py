"""The exchange core: route policies, the privacy pipeline, message storage and the inbox."""
