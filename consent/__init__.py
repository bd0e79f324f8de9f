"""The consent registry's domain: records, the age rule, status, matching and receipts.

Plain Python over interfaces (:mod:`consent.interfaces`): the gateway supplies the database
store, the receipt signer and the clock. This package never imports Flask or the gateway, so
its rules can be read and tested on their own.
"""
