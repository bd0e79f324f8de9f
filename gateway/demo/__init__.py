"""The laptop sandbox: demo organisations' client keys and sample traffic."""
